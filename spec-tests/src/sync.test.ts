// /sync over raw HTTP: incremental delivery, long-polling, filters, full_state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import {
  createRoom,
  enc,
  expectError,
  expectOk,
  invite,
  joinRoom,
  rawRequest,
  registerUser,
  sendText,
  sync,
  syncTimeline,
  type Json,
} from './harness/http.js';
import { sleep } from './harness/util.js';

const messagesOnly = (events: Json[]): Json[] => events.filter((e) => e.type === 'm.room.message');

describe('sync', () => {
  const ctx = useServer();

  it('should return each new event exactly once and in order across several since tokens', async () => {
    const alice = await registerUser(ctx.server);
    const bob = await registerUser(ctx.server);
    const roomId = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    await joinRoom(ctx.server, bob, roomId);
    const first = await sync(ctx.server, bob, { timeout: 0 });
    assert.ok(first.rooms?.join?.[roomId], 'initial sync lists the joined room');
    let since: string = first.next_batch;

    const sent: string[] = [];
    const received: Json[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 3; i++) {
        const bodyText = `round ${round} message ${i}`;
        const id = await sendText(ctx.server, alice, roomId, bodyText);
        sent.push(id);
      }
      const s = await sync(ctx.server, bob, { since, timeout: 0 });
      const tl = s.rooms?.join?.[roomId]?.timeline;
      assert.ok(tl, `round ${round}: incremental sync must include the room with new events`);
      assert.equal(tl.limited ?? false, false, `round ${round}: 3 new events must not be a gappy (limited) timeline`);
      received.push(...messagesOnly(tl.events));
      assert.notEqual(s.next_batch, since, 'next_batch must advance when there are new events');
      since = s.next_batch;
    }
    assert.deepEqual(received.map((e) => e.event_id), sent, 'every event exactly once, in send order');
    for (const e of received) {
      assert.equal(e.sender, alice.userId);
      assert.equal(typeof e.origin_server_ts, 'number');
      assert.equal(e.room_id ?? roomId, roomId);
    }

    // Nothing new: the room is absent or has an empty timeline.
    const idle = await sync(ctx.server, bob, { since, timeout: 0 });
    assert.deepEqual(messagesOnly(syncTimeline(idle, roomId)), [], 'a sync with nothing new returns no messages');

    // Replaying an old token returns the same events again (tokens are positions, not cursors).
    const replay = await sync(ctx.server, bob, { since: first.next_batch, timeout: 0, filter: JSON.stringify({ room: { timeline: { limit: 100 } } }) });
    assert.deepEqual(messagesOnly(syncTimeline(replay, roomId)).map((e) => e.event_id), sent, 'an old since token replays from that position');
  });

  it('should wake a long-polling /sync promptly when another user sends', async () => {
    const alice = await registerUser(ctx.server);
    const bob = await registerUser(ctx.server);
    const roomId = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    await joinRoom(ctx.server, bob, roomId);
    const s0 = await sync(ctx.server, bob, { timeout: 0 });
    // Drain anything pending (e.g. the join itself) so the next call has to wait.
    const s1 = await sync(ctx.server, bob, { since: s0.next_batch, timeout: 0 });

    const started = Date.now();
    let firstReturnedAt = 0;
    const poll = (async () => {
      // A server may return an empty response early; a client just polls again.
      let since: string = s1.next_batch;
      for (;;) {
        const res = await sync(ctx.server, bob, { since, timeout: 10_000 });
        firstReturnedAt ||= Date.now();
        const msgs = messagesOnly(syncTimeline(res, roomId));
        if (msgs.length > 0 || Date.now() - started > 15_000) return msgs;
        since = res.next_batch;
      }
    })();
    await sleep(700);
    const sentAt = Date.now();
    const eventId = await sendText(ctx.server, alice, roomId, 'wake up');
    const msgs = await poll;
    const returnedAt = Date.now();
    assert.deepEqual(msgs.map((e) => e.event_id), [eventId], 'the long-poll must deliver the new event');
    assert.ok(firstReturnedAt - started >= 500, `the first long-poll returned after ${firstReturnedAt - started} ms with nothing to report — it did not wait`);
    assert.ok(returnedAt - sentAt < 3000, `the event arrived ${returnedAt - sentAt} ms after the send; a long-poll should wake within ~1–2 s, not run to its 10 s timeout`);
  });

  it('should let a long-poll with nothing to report run to its timeout and return no events', async () => {
    const bob = await registerUser(ctx.server);
    const s0 = await sync(ctx.server, bob, { timeout: 0 });
    const s1 = await sync(ctx.server, bob, { since: s0.next_batch, timeout: 0 });
    const t0 = Date.now();
    const res = await sync(ctx.server, bob, { since: s1.next_batch, timeout: 1500 });
    const took = Date.now() - t0;
    assert.ok(took >= 1200, `an idle long-poll returned after ${took} ms, long before its 1500 ms timeout`);
    assert.ok(took < 6000, `an idle long-poll with timeout=1500 took ${took} ms`);
    assert.deepEqual(Object.keys(res.rooms?.join ?? {}), [], 'no rooms to report');
  });

  it('should store a filter and apply its timeline limit (limited + prev_batch)', async () => {
    const alice = await registerUser(ctx.server);
    const roomId = await createRoom(ctx.server, alice, { name: 'filtered' });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await sendText(ctx.server, alice, roomId, `m${i}`));

    const filter = { room: { timeline: { limit: 2 } }, presence: { types: [] } };
    const created = expectOk(
      await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body: filter }),
      'POST filter',
    );
    assert.equal(typeof created.filter_id, 'string');
    assert.ok(!created.filter_id.startsWith('{'), 'filter IDs must not start with { (that means an inline filter)');
    const stored = expectOk(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/user/${enc(alice.userId)}/filter/${enc(created.filter_id)}`, { token: alice.accessToken }),
      'GET filter',
    );
    assert.equal(stored.room?.timeline?.limit, 2, `the stored filter must round-trip: ${JSON.stringify(stored)}`);
    expectError(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/user/${enc(alice.userId)}/filter/nosuchfilter999`, { token: alice.accessToken }),
      404, 'M_NOT_FOUND', 'unknown filter',
    );
    const bob = await registerUser(ctx.server);
    const other = await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/user/${enc(alice.userId)}/filter`, { token: bob.accessToken, body: filter });
    expectError(other, 403, 'M_FORBIDDEN', "bob creates a filter for alice");

    for (const [label, f] of [['filter ID', created.filter_id], ['inline JSON filter', JSON.stringify(filter)]] as const) {
      const s = await sync(ctx.server, alice, { filter: f, timeout: 0 });
      const tl = s.rooms?.join?.[roomId]?.timeline;
      assert.ok(tl, `${label}: room present`);
      assert.equal(tl.events.length, 2, `${label}: timeline limit 2 gives 2 events, got ${tl.events.length}`);
      assert.deepEqual(tl.events.map((e: Json) => e.event_id), ids.slice(-2), `${label}: the two most recent events, oldest first`);
      assert.equal(tl.limited, true, `${label}: more history exists so limited must be true`);
      assert.equal(typeof tl.prev_batch, 'string', `${label}: prev_batch must be given`);
      // prev_batch continues exactly where the timeline starts.
      const back = expectOk(
        await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=2&from=${enc(tl.prev_batch)}`, { token: alice.accessToken }),
        `${label}: /messages from prev_batch`,
      );
      assert.deepEqual(back.chunk.map((e: Json) => e.event_id), [ids[3], ids[2]], `${label}: paginating back from prev_batch gives the events just before the timeline`);
      // State before the timeline is in `state` (the room name must be known to the client).
      const state: Json[] = s.rooms.join[roomId].state?.events ?? [];
      const all = [...state, ...tl.events];
      assert.ok(all.some((e) => e.type === 'm.room.name' && e.content.name === 'filtered'), `${label}: room name must be in state or timeline`);
      assert.ok(all.some((e) => e.type === 'm.room.create'), `${label}: m.room.create must be in state or timeline`);
    }
  });

  it('should return the full room state on an incremental sync with full_state=true', async () => {
    const alice = await registerUser(ctx.server);
    const roomId = await createRoom(ctx.server, alice, { name: 'stateful', topic: 'about state' });
    const s0 = await sync(ctx.server, alice, { timeout: 0 });
    await sendText(ctx.server, alice, roomId, 'just a message');
    const plain = await sync(ctx.server, alice, { since: s0.next_batch, timeout: 0 });
    const plainState: Json[] = plain.rooms?.join?.[roomId]?.state?.events ?? [];
    assert.ok(!plainState.some((e) => e.type === 'm.room.create'), 'an incremental sync without state changes must not resend m.room.create');

    const full = await sync(ctx.server, alice, { since: s0.next_batch, timeout: 0, full_state: true });
    const room = full.rooms?.join?.[roomId];
    assert.ok(room, 'full_state sync includes the room');
    const all: Json[] = [...(room.state?.events ?? []), ...(room.timeline?.events ?? [])];
    for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name', 'm.room.topic']) {
      assert.ok(all.some((e) => e.type === type && e.state_key === ''), `full_state must include ${type}`);
    }
    assert.ok(all.some((e) => e.type === 'm.room.member' && e.state_key === alice.userId), 'full_state must include Alice\'s membership');
    assert.ok(messagesOnly(room.timeline?.events ?? []).some((e) => e.content.body === 'just a message'), 'the timeline still has the new message');
  });

  it('should show invites in rooms.invite with stripped state, and the room in rooms.join after joining', async () => {
    const alice = await registerUser(ctx.server);
    const bob = await registerUser(ctx.server);
    const roomId = await createRoom(ctx.server, alice, { preset: 'private_chat', name: 'secret garden' });
    const s0 = await sync(ctx.server, bob, { timeout: 0 });
    await invite(ctx.server, alice, roomId, bob.userId);
    const s1 = await sync(ctx.server, bob, { since: s0.next_batch, timeout: 5000 });
    const inv = s1.rooms?.invite?.[roomId];
    assert.ok(inv, `the invite must appear under rooms.invite: ${JSON.stringify(s1.rooms ?? {})}`);
    const stripped: Json[] = inv.invite_state?.events ?? [];
    assert.ok(stripped.some((e) => e.type === 'm.room.name' && e.content.name === 'secret garden'), 'invite_state should carry the room name');
    assert.ok(stripped.some((e) => e.type === 'm.room.member' && e.state_key === bob.userId && e.content.membership === 'invite'), 'invite_state carries the invite');
    await joinRoom(ctx.server, bob, roomId);
    const s2 = await sync(ctx.server, bob, { since: s1.next_batch, timeout: 5000 });
    assert.ok(s2.rooms?.join?.[roomId], 'after joining, the room is under rooms.join');
    assert.equal(s2.rooms?.invite?.[roomId], undefined, 'and no longer under rooms.invite');
  });
});
