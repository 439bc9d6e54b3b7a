import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, type JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { stateKeyOf, type StateKey } from '@parley/federation/core/types';
import { MatrixError } from '../http/errors.js';
import { watchReads } from '../testing/storage.js';
import { openTestRooms, requester, user } from './testing.js';

async function publicRoom(t: Awaited<ReturnType<typeof openTestRooms>>, creator: string, members: string[] = []) {
  const { room_id } = await t.rooms.creator.createRoom(requester(creator), { preset: 'public_chat' });
  for (const m of members) await t.rooms.membership.join(user(m), room_id);
  return room_id;
}

test('it should give concurrent sends into two rooms one consistent order per room, each event once, with rising stream positions', async () => {
  const t = await openTestRooms();
  try {
    const rooms = [await publicRoom(t, 'alice', ['bob']), await publicRoom(t, 'carol', ['dave'])];
    const senders = [
      ['alice', 'bob'],
      ['carol', 'dave'],
    ];
    const sent = new Map<string, string[]>(rooms.map((r) => [r, []]));
    await Promise.all(
      Array.from({ length: 120 }, (_, i) => {
        const r = i % 2;
        const who = senders[r][i % 4 < 2 ? 0 : 1];
        return t.rooms.events
          .send(requester(who), rooms[r], 'm.room.message', `txn${i}`, { msgtype: 'm.text', body: `msg ${i}` })
          .then((id) => sent.get(rooms[r])!.push(id));
      }),
    );
    for (const roomId of rooms) {
      const timeline = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 1000 });
      const messages = timeline.filter((e) => e.pdu.type === 'm.room.message');
      assert.equal(messages.length, 60);
      assert.deepEqual(new Set(messages.map((e) => e.eventId)), new Set(sent.get(roomId)));
      for (let i = 1; i < timeline.length; i++) {
        assert.ok(timeline[i].stream > timeline[i - 1].stream, 'stream positions rise along the timeline');
        // A single writer per room: every event follows exactly the one before it.
        assert.deepEqual(timeline[i].pdu.prev_events, [timeline[i - 1].eventId]);
        assert.equal(timeline[i].pdu.depth, timeline[i - 1].pdu.depth + 1);
      }
      const backwards = await t.rooms.reader.timeline(roomId, { dir: 'b', limit: 1000 });
      assert.deepEqual(backwards.map((e) => e.eventId), timeline.map((e) => e.eventId).reverse());
    }
    const all = await t.rooms.reader.eventsSince(0, t.counter.persisted, 10_000);
    const streams = all.map((e) => e.stream);
    assert.deepEqual(streams, [...streams].sort((a, b) => a - b));
    assert.equal(new Set(all.map((e) => e.eventId)).size, all.length);
    assert.equal(all.filter((e) => e.pdu.type === 'm.room.message').length, 120);
  } finally {
    await t.dispose();
  }
});

test('it should refuse an event over 64 KiB with 413 M_TOO_LARGE and store nothing of it', async () => {
  const t = await openTestRooms();
  try {
    const roomId = await publicRoom(t, 'alice');
    const before = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 });
    const outputsBefore = t.outputs.length;
    await assert.rejects(
      t.rooms.events.send(requester('alice'), roomId, 'm.room.message', 'big', { msgtype: 'm.text', body: 'x'.repeat(70_000) }),
      (err: unknown) => err instanceof MatrixError && err.status === 413 && err.errcode === 'M_TOO_LARGE',
    );
    assert.deepEqual(await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 }), before);
    assert.equal(t.outputs.length, outputsBefore, 'no output for a refused event');
    // The same transaction can then succeed with an acceptable body: nothing was recorded for it.
    const id = await t.rooms.events.send(requester('alice'), roomId, 'm.room.message', 'big', { msgtype: 'm.text', body: 'small' });
    assert.equal((await t.rooms.reader.getEvent(id))?.pdu.content.body, 'small');
  } finally {
    await t.dispose();
  }
});

test('it should measure the 65,536-byte limit on the whole signed PDU, not on the content', async () => {
  const t = await openTestRooms();
  try {
    const roomId = await publicRoom(t, 'alice');
    const send = (txn: string, body: string) => t.rooms.events.send(requester('alice'), roomId, 'm.room.message', txn, { msgtype: 'm.text', body });
    // Spec: client-server-api/_index.md "Size limits" — the content alone fits, the event with its envelope does not.
    const content = { msgtype: 'm.text', body: 'x'.repeat(65_000) };
    assert.ok(Buffer.byteLength(JSON.stringify(content)) < 65_536);
    await assert.rejects(send('fits-content', content.body), (err: unknown) => err instanceof MatrixError && err.status === 413);
    // An event just under the limit once signed is accepted.
    const probe = await t.rooms.reader.getEvent(await send('probe', 'x'.repeat(60_000)));
    const overhead = Buffer.byteLength(canonicalJson(probe!.pdu as JsonObjectLike)) - 60_000;
    const id = await send('near-limit', 'x'.repeat(65_536 - overhead - 16));
    assert.ok(Buffer.byteLength(canonicalJson((await t.rooms.reader.getEvent(id))!.pdu as JsonObjectLike)) <= 65_536);
  } finally {
    await t.dispose();
  }
});

test('it should keep rooms, state and timeline across a restart and continue with higher stream positions', async () => {
  let t = await openTestRooms();
  try {
    const roomId = await publicRoom(t, 'alice', ['bob']);
    await t.rooms.events.setState(requester('alice'), roomId, 'm.room.topic', '', { topic: 'before restart' });
    for (let i = 0; i < 5; i++) await t.rooms.events.send(requester('bob'), roomId, 'm.room.message', `t${i}`, { body: `m${i}` });
    const timeline = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 });
    const state = await t.rooms.reader.currentState(roomId);
    const lastStream = timeline[timeline.length - 1].stream;

    t = await t.reopen();
    assert.deepEqual(await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 }), timeline);
    assert.deepEqual(await t.rooms.reader.currentState(roomId), state);
    assert.equal((await t.rooms.reader.membership(roomId, user('bob')))?.membership, 'join');
    assert.equal((await t.rooms.reader.currentStateEvent(roomId, 'm.room.topic', ''))?.pdu.content.topic, 'before restart');

    const id = await t.rooms.events.send(requester('alice'), roomId, 'm.room.message', 'after', { body: 'after restart' });
    const ev = await t.rooms.reader.getEvent(id);
    assert.ok(ev && ev.stream > lastStream, 'positions continue above everything before the restart');
    assert.deepEqual(ev.pdu.prev_events, [timeline[timeline.length - 1].eventId], 'the graph continues from the old tip');
    // A retried transaction from before the restart still maps to its event.
    const again = await t.rooms.events.send(requester('bob'), roomId, 'm.room.message', 't0', { body: 'm0' });
    assert.equal(again, timeline.find((e) => e.pdu.content.body === 'm0')?.eventId);
  } finally {
    await t.dispose();
  }
});

test('it should answer the state before and after every event exactly as replaying the timeline does', async () => {
  const t = await openTestRooms();
  try {
    const roomId = await publicRoom(t, 'alice');
    // Enough state changes to cross several snapshot boundaries, mixed with messages.
    for (let i = 0; i < 90; i++) {
      const who = `u${i % 7}`;
      if (i % 3 === 0) await t.rooms.membership.join(user(who), roomId);
      else if (i % 3 === 1) await t.rooms.events.setState(requester('alice'), roomId, 'm.room.topic', '', { topic: `topic ${i}` });
      else await t.rooms.events.send(requester('alice'), roomId, 'm.room.message', `m${i}`, { body: `${i}` });
      if (i % 10 === 5 && (await t.rooms.reader.membership(roomId, user(who)))?.membership === 'join') {
        await t.rooms.membership.leave(user(who), roomId);
      }
    }
    const timeline = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 1000 });
    const replay = new Map<StateKey, string>();
    for (const ev of timeline) {
      assert.deepEqual(await t.rooms.reader.stateBefore(ev.eventId), replay, `state before ${ev.pdu.type}`);
      if (typeof ev.pdu.state_key === 'string') replay.set(stateKeyOf(ev.pdu.type, ev.pdu.state_key), ev.eventId);
      assert.deepEqual(await t.rooms.reader.stateAfter(ev.eventId), replay, `state after ${ev.pdu.type}`);
      assert.deepEqual(await t.rooms.reader.stateAtStream(roomId, ev.stream), replay);
    }
    assert.deepEqual(await t.rooms.reader.currentState(roomId), replay);
  } finally {
    await t.dispose();
  }
});

test('it should drop only the failing write when concurrent writes to one room are committed together', async () => {
  const t = await openTestRooms();
  try {
    const roomId = await publicRoom(t, 'alice', ['bob']);
    let writes = 0;
    const write = t.db.write.bind(t.db);
    t.db.write = (ops) => {
      writes++;
      return write(ops);
    };
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        t.rooms.events.send(requester(i === 4 ? 'eve' : 'bob'), roomId, 'm.room.message', `g${i}`, {
          body: i === 7 ? 'x'.repeat(70_000) : `g${i}`,
        }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      results.map((_, i) => (i === 4 || i === 7 ? 'rejected' : 'fulfilled')),
      'the non-member and the oversized send fail, nothing else',
    );
    assert.ok(writes < 12, `queued writes share commits (${writes} writes for 12 sends)`);
    const timeline = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 });
    const bodies = timeline.filter((e) => e.pdu.type === 'm.room.message').map((e) => e.pdu.content.body);
    assert.deepEqual(bodies, ['g0', 'g1', 'g2', 'g3', 'g5', 'g6', 'g8', 'g9', 'g10', 'g11']);
    for (let i = 1; i < timeline.length; i++) assert.deepEqual(timeline[i].pdu.prev_events, [timeline[i - 1].eventId]);
  } finally {
    await t.dispose();
  }
});

test('it should store a message made here without reading the event-ID mapping or the redaction index, and find it afterwards', async () => {
  const t = await openTestRooms();
  try {
    const roomId = await publicRoom(t, 'alice', ['bob']);
    await t.rooms.events.send(requester('alice'), roomId, 'm.room.message', 'warm', { msgtype: 'm.text', body: 'first' });
    const reads = watchReads(t.db);
    const eventId = await t.rooms.events.send(requester('bob'), roomId, 'm.room.message', 't1', { msgtype: 'm.text', body: 'second' });
    reads.stop();
    assert.deepEqual(
      reads.spaces.filter((s) => s === 'eventid_short' || s === 'eventid_redactedby'),
      [],
      `reads while sending: ${reads.spaces.join(', ')}`,
    );
    const stored = await t.rooms.reader.getEvent(eventId);
    assert.equal(stored?.pdu.content.body, 'second');
    const [last] = await t.rooms.reader.timeline(roomId, { dir: 'b', limit: 1 });
    assert.equal(last.eventId, eventId);
    // Restarted: the ID mapping was written with the event.
    const t2 = await t.reopen();
    assert.equal((await t2.rooms.reader.getEvent(eventId))?.pdu.content.body, 'second');
    assert.equal((await t2.rooms.reader.timeline(roomId, { dir: 'b', limit: 1 }))[0].eventId, eventId);
    await t2.dispose();
  } finally {
    await t.dispose();
  }
});
