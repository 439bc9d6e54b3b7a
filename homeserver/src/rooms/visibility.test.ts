import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestRooms, requester, user, type TestRooms } from './testing.js';
import { HistoryVisibility } from './visibility.js';

async function say(t: TestRooms, roomId: string, who: string, body: string): Promise<string> {
  return t.rooms.events.send(requester(who), roomId, 'm.room.message', body, { body });
}

/** The bodies of the room's messages `who` may see. */
async function visibleBodies(t: TestRooms, roomId: string, who: string): Promise<string[]> {
  const timeline = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 1000 });
  const seen = await t.rooms.visibility.filter(user(who), roomId, timeline);
  return seen.filter((e) => e.pdu.type === 'm.room.message').map((e) => String(e.pdu.content.body));
}

test('it should show shared history to later joiners, only up to the leave to leavers, and nothing to outsiders', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    await say(t, roomId, 'alice', 'before bob');
    await t.rooms.membership.join(user('bob'), roomId);
    await say(t, roomId, 'alice', 'with bob');
    await t.rooms.membership.leave(user('bob'), roomId);
    await say(t, roomId, 'alice', 'after bob');
    assert.deepEqual(await visibleBodies(t, roomId, 'bob'), ['before bob', 'with bob']);
    assert.deepEqual(await visibleBodies(t, roomId, 'alice'), ['before bob', 'with bob', 'after bob']);
    assert.deepEqual(await visibleBodies(t, roomId, 'eve'), []);
    await t.rooms.membership.forget(user('bob'), roomId);
    assert.deepEqual(await visibleBodies(t, roomId, 'bob'), [], 'a forgotten room shows nothing');
    await t.rooms.membership.join(user('eve'), roomId);
    assert.deepEqual(await visibleBodies(t, roomId, 'eve'), ['before bob', 'with bob', 'after bob'], 'shared: a joiner sees all history');
  } finally {
    await t.dispose();
  }
});

test('it should hide history before the join under "joined" and before the invite under "invited"', async () => {
  const t = await openTestRooms();
  try {
    for (const hv of ['joined', 'invited'] as const) {
      const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), {
        preset: 'private_chat',
        initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: hv } }],
      });
      await say(t, roomId, 'alice', 'early');
      await t.rooms.membership.invite(user('alice'), roomId, user('bob'));
      await say(t, roomId, 'alice', 'while invited');
      await t.rooms.membership.join(user('bob'), roomId);
      await say(t, roomId, 'alice', 'joined');
      assert.deepEqual(await visibleBodies(t, roomId, 'bob'), hv === 'joined' ? ['joined'] : ['while invited', 'joined'], hv);
      // The user always sees their own join event.
      const join = await t.rooms.reader.currentStateEvent(roomId, 'm.room.member', user('bob'));
      assert.equal(await t.rooms.visibility.canSee(user('bob'), join!), true);
    }
  } finally {
    await t.dispose();
  }
});

test('it should show world_readable events to anyone, and a visibility change to those allowed before or after it', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), {
      preset: 'public_chat',
      initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'world_readable' } }],
    });
    await say(t, roomId, 'alice', 'open');
    const change = await t.rooms.events.setState(requester('alice'), roomId, 'm.room.history_visibility', '', { history_visibility: 'joined' });
    await say(t, roomId, 'alice', 'closed');
    assert.deepEqual(await visibleBodies(t, roomId, 'eve'), ['open']);
    assert.equal(await t.rooms.visibility.canSee(user('eve'), (await t.rooms.reader.getEvent(change))!), true, 'world_readable before the change');
  } finally {
    await t.dispose();
  }
});

test('it should show a new message to many members checked at once, reading the state at it once', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    const members = Array.from({ length: 20 }, (_, i) => `m${i}`);
    for (const m of members) await t.rooms.membership.join(user(m), roomId);
    await say(t, roomId, 'alice', 'hello all');
    const [ev] = await t.rooms.reader.timeline(roomId, { dir: 'b', limit: 1 });
    let stateReads = 0;
    const reader = t.rooms.reader;
    const counting = new Proxy(reader, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        const f = (v as (...a: unknown[]) => unknown).bind(target);
        if (prop !== 'stateEntriesAt') return f;
        // A state read takes a turn of the event loop, as one from disk does.
        return async (...a: unknown[]) => {
          stateReads++;
          await new Promise((r) => setImmediate(r));
          return f(...a);
        };
      },
    });
    const visibility = new HistoryVisibility(counting);
    // As a wake releases many syncs at once: every check starts before any has finished.
    const seen = await Promise.all(members.map((m) => visibility.filter(user(m), roomId, [ev])));
    assert.deepEqual(seen.map((s) => s.map((e) => e.pdu.content.body)), members.map(() => ['hello all']));
    assert.equal(stateReads, 1);
  } finally {
    await t.dispose();
  }
});
