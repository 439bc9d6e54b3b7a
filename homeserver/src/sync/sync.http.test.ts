// /sync through the HTTP stack with the real room service: what a client sees.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withSyncServer, type Harness, type TestUser } from './testHarness.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** alice's public room, bob joined to it. */
async function bobInAlicesRoom(h: Harness): Promise<{ alice: TestUser; bob: TestUser; roomId: string }> {
  const [alice, bob] = [h.user('alice'), h.user('bob')];
  const roomId = await h.createRoom(alice, { preset: 'public_chat' });
  await h.rooms.membership.join(bob.userId, roomId);
  return { alice, bob, roomId };
}

async function sync(h: Harness, u: TestUser, params: Record<string, string | number | boolean> = {}): Promise<Json> {
  const res = await h.syncRaw(u, params);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  assert.equal(typeof res.json.next_batch, 'string');
  return res.json;
}
const timeline = (s: Json, roomId: string): Json[] => s.rooms?.join?.[roomId]?.timeline?.events ?? [];
const messages = (events: Json[]) => events.filter((e) => e.type === 'm.room.message');
const f = (filter: unknown) => JSON.stringify(filter);

describe('initial sync', () => {
  it('it should list a joined room with its state and recent timeline, newest last', async () => {
    await withSyncServer(async (h) => {
      const alice = h.user('alice');
      const roomId = await h.createRoom(alice, { name: 'Tea', preset: 'public_chat' });
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push(await h.send(alice, roomId, `m${i}`));
      const s = await sync(h, alice);
      const room = s.rooms.join[roomId];
      assert.ok(room, 'joined room listed');
      assert.deepEqual(timeline(s, roomId).map((e) => e.event_id), ids.slice(-10), 'default limit 10, oldest first');
      assert.equal(room.timeline.limited, true);
      assert.equal(typeof room.timeline.prev_batch, 'string');
      const stateTypes = room.state.events.map((e: Json) => e.type);
      for (const t of ['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.name']) assert.ok(stateTypes.includes(t), t);
      assert.equal(room.timeline.events[0].room_id, undefined, 'events in /sync carry no room_id');
      assert.equal(typeof room.timeline.events[0].unsigned.age, 'number');
      assert.equal(room.summary['m.joined_member_count'], 1);
      assert.deepEqual(room.summary['m.heroes'], []);
    });
  });

  it('it should put the whole state in the timeline for a new room and nothing twice', async () => {
    await withSyncServer(async (h) => {
      const alice = h.user('alice');
      const roomId = await h.createRoom(alice, { name: 'Small' });
      const s = await sync(h, alice);
      const room = s.rooms.join[roomId];
      assert.equal(room.timeline.limited, false);
      assert.equal(room.timeline.events[0].type, 'm.room.create');
      const tl = new Set(room.timeline.events.map((e: Json) => e.event_id));
      assert.ok(room.state.events.every((e: Json) => !tl.has(e.event_id)), 'state never repeats a timeline event');
    });
  });

  it('it should list invites with stripped state and the invite event', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const roomId = await h.createRoom(alice, { name: 'Secret garden', preset: 'private_chat' });
      await h.rooms.membership.invite(alice.userId, roomId, bob.userId);
      const s = await sync(h, bob);
      const events: Json[] = s.rooms.invite[roomId].invite_state.events;
      assert.ok(events.some((e) => e.type === 'm.room.create'), 'create is required in invite_state');
      assert.ok(events.some((e) => e.type === 'm.room.name' && e.content.name === 'Secret garden'));
      assert.ok(events.some((e) => e.type === 'm.room.join_rules'));
      const inv = events.find((e) => e.type === 'm.room.member' && e.state_key === bob.userId);
      assert.equal(inv?.content.membership, 'invite');
      assert.equal(inv?.sender, alice.userId);
      assert.equal(s.rooms.join[roomId], undefined);
    });
  });

  it('it should list left rooms only with include_leave, and never forgotten ones', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      await h.send(alice, roomId, 'before you go');
      await h.rooms.membership.leave(bob.userId, roomId);
      await h.send(alice, roomId, 'after you left');
      assert.equal((await sync(h, bob)).rooms.leave[roomId], undefined, 'no include_leave, no left rooms');
      const s = await sync(h, bob, { filter: f({ room: { include_leave: true } }) });
      const left = s.rooms.leave[roomId];
      assert.ok(left, 'listed with include_leave');
      const bodies = messages(left.timeline.events).map((e) => e.content.body);
      assert.deepEqual(bodies, ['before you go'], 'the timeline stops at the leave');
      assert.equal(left.timeline.events.at(-1).content.membership, 'leave');
      const later = await sync(h, bob, { since: s.next_batch, filter: f({ room: { include_leave: true } }) });
      assert.equal(later.rooms.leave[roomId], undefined, 'an incremental sync does not repeat an old leave');
      await h.rooms.membership.forget(bob.userId, roomId);
      assert.equal((await sync(h, bob, { filter: f({ room: { include_leave: true } }) })).rooms.leave[roomId], undefined);
    });
  });
});

describe('incremental sync', () => {
  it('it should deliver every new event exactly once and in order across tokens', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      let since = (await sync(h, bob)).next_batch;
      const sent: string[] = [];
      const got: string[] = [];
      for (let round = 0; round < 4; round++) {
        // Concurrent sends: positions may finish out of order.
        sent.push(...(await Promise.all([0, 1, 2].map((i) => h.send(alice, roomId, `r${round}m${i}`)))));
        const s = await sync(h, bob, { since });
        assert.equal(s.rooms.join[roomId].timeline.limited, false);
        got.push(...messages(timeline(s, roomId)).map((e) => e.event_id));
        since = s.next_batch;
      }
      assert.deepEqual([...got].sort(), [...sent].sort(), 'every event, once');
      assert.equal(new Set(got).size, got.length);
      const streamOrder = (await h.rooms.reader.getEvents(got)).map((e) => e!.stream);
      assert.deepEqual(streamOrder, [...streamOrder].sort((a, b) => a - b), 'in stream order');
      const idle = await sync(h, bob, { since });
      assert.equal(idle.rooms.join[roomId], undefined, 'nothing new: room absent');
      assert.equal(idle.next_batch, since);
    });
  });

  it('it should find changed rooms one by one when the window holds too many events, with the same result', async () => {
    await withSyncServer(
      async (h) => {
        const [alice, bob] = [h.user('alice'), h.user('bob')];
        const quiet = await h.createRoom(alice, { preset: 'public_chat' });
        const busy = await h.createRoom(alice, { preset: 'public_chat' });
        const other = await h.createRoom(alice);
        await h.rooms.membership.join(bob.userId, quiet);
        await h.rooms.membership.join(bob.userId, busy);
        const since = (await sync(h, bob)).next_batch;
        const sent = [];
        for (let i = 0; i < 4; i++) sent.push(await h.send(alice, busy, `busy ${i}`));
        await h.send(alice, other, 'elsewhere');
        const s = await sync(h, bob, { since });
        assert.deepEqual(Object.keys(s.rooms.join), [busy]);
        assert.deepEqual(messages(timeline(s, busy)).map((e) => e.event_id), sent);
        assert.equal(s.rooms.join[busy].timeline.limited, false);
      },
      { windowCap: 2 },
    );
  });

  it('it should mark a gap as limited, with prev_batch continuing into /messages and the state delta of the gap', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const roomId = await h.createRoom(alice, { preset: 'public_chat', name: 'Old name' });
      await h.rooms.membership.join(bob.userId, roomId);
      const since = (await sync(h, bob)).next_batch;
      const early = await h.send(alice, roomId, 'early');
      const rename = await h.rooms.events.setState(alice, roomId, 'm.room.name', '', { name: 'New name' });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await h.send(alice, roomId, `late${i}`));
      const s = await sync(h, bob, { since, filter: f({ room: { timeline: { limit: 3 } } }) });
      const room = s.rooms.join[roomId];
      assert.deepEqual(room.timeline.events.map((e: Json) => e.event_id), ids.slice(-3));
      assert.equal(room.timeline.limited, true);
      assert.deepEqual(room.state.events.map((e: Json) => e.event_id), [rename], 'the state delta is the rename in the gap');
      // Filling the gap: from=since to=prev_batch gives exactly the missing events.
      const gap = await h.call(
        'GET',
        `${C}/rooms/${encodeURIComponent(roomId)}/messages?dir=f&limit=50&from=${since}&to=${room.timeline.prev_batch}`,
        { token: bob.token },
      );
      assert.equal(gap.status, 200, JSON.stringify(gap.json));
      assert.deepEqual(gap.json.chunk.map((e: Json) => e.event_id), [early, rename, ids[0], ids[1]]);
    });
  });

  it('it should send full state for a room joined since the token, and the invite before that', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const roomId = await h.createRoom(alice, { preset: 'private_chat', name: 'Club' });
      for (let i = 0; i < 12; i++) await h.send(alice, roomId, `history ${i}`);
      const s0 = await sync(h, bob);
      await h.rooms.membership.invite(alice.userId, roomId, bob.userId);
      const s1 = await sync(h, bob, { since: s0.next_batch });
      assert.ok(s1.rooms.invite[roomId]);
      await h.rooms.membership.join(bob.userId, roomId);
      const s2 = await sync(h, bob, { since: s1.next_batch });
      assert.equal(s2.rooms.invite[roomId], undefined);
      const room = s2.rooms.join[roomId];
      assert.ok(room, 'newly joined room listed');
      const all = [...room.state.events, ...room.timeline.events];
      for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name']) {
        assert.ok(all.some((e: Json) => e.type === t), `${t} for a newly joined room`);
      }
      assert.equal(room.timeline.limited, true, 'history before the join exists');
      assert.equal(room.summary['m.joined_member_count'], 2);
      assert.deepEqual(room.summary['m.heroes'], [alice.userId]);
      const s3 = await sync(h, bob, { since: s2.next_batch });
      assert.equal(s3.rooms.join[roomId], undefined, 'and only once');
    });
  });

  it('it should move a room the user left to rooms.leave with the events up to the leave', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      const since = (await sync(h, bob)).next_batch;
      const last = await h.send(alice, roomId, 'last words');
      await h.rooms.membership.kick(alice.userId, roomId, bob.userId, 'bye');
      await h.send(alice, roomId, 'not for bob');
      const s = await sync(h, bob, { since });
      assert.equal(s.rooms.join[roomId], undefined);
      const left = s.rooms.leave[roomId];
      assert.ok(left, 'listed under leave without include_leave');
      const tl: Json[] = left.timeline.events;
      assert.deepEqual(messages(tl).map((e) => e.event_id), [last]);
      assert.equal(tl.at(-1).state_key, bob.userId);
      assert.equal(tl.at(-1).content.membership, 'leave');
      const again = await sync(h, bob, { since: s.next_batch });
      assert.equal(again.rooms.leave[roomId], undefined);
    });
  });

  it('it should tell a user whose invite was rejected only about the leave', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const roomId = await h.createRoom(alice, { preset: 'private_chat', name: 'Private' });
      await h.send(alice, roomId, 'private talk');
      await h.rooms.membership.invite(alice.userId, roomId, bob.userId);
      const since = (await sync(h, bob)).next_batch;
      await h.rooms.membership.leave(bob.userId, roomId);
      const s = await sync(h, bob, { since });
      const left = s.rooms.leave[roomId];
      assert.deepEqual(left.timeline.events.map((e: Json) => e.content.membership), ['leave']);
      assert.deepEqual(left.state.events, []);
    });
  });

  it('it should return the full state with full_state=true and keep the timeline since the token', async () => {
    await withSyncServer(async (h) => {
      const alice = h.user('alice');
      const roomId = await h.createRoom(alice, { name: 'Stateful', topic: 'about state' });
      const since = (await sync(h, alice)).next_batch;
      const msg = await h.send(alice, roomId, 'just a message');
      const plain = await sync(h, alice, { since });
      assert.deepEqual(plain.rooms.join[roomId].state.events, []);
      const full = await sync(h, alice, { since, full_state: true });
      const room = full.rooms.join[roomId];
      for (const t of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.name', 'm.room.topic', 'm.room.member']) {
        assert.ok(room.state.events.some((e: Json) => e.type === t), t);
      }
      assert.deepEqual(room.timeline.events.map((e: Json) => e.event_id), [msg]);
    });
  });

  it('it should send a state change that the timeline filter hides in the state section', async () => {
    await withSyncServer(async (h) => {
      const alice = h.user('alice');
      const roomId = await h.createRoom(alice, { name: 'Before' });
      const since = (await sync(h, alice)).next_batch;
      const rename = await h.rooms.events.setState(alice, roomId, 'm.room.name', '', { name: 'After' });
      const msg = await h.send(alice, roomId, 'hello');
      const s = await sync(h, alice, { since, filter: f({ room: { timeline: { types: ['m.room.message'] } } }) });
      const room = s.rooms.join[roomId];
      assert.deepEqual(room.timeline.events.map((e: Json) => e.event_id), [msg]);
      assert.deepEqual(room.state.events.map((e: Json) => e.event_id), [rename]);
    });
  });
});

describe('sync filters', () => {
  it('it should apply rooms, types, senders, event_fields and account_data filters', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const r1 = await h.createRoom(alice, { preset: 'public_chat' });
      const r2 = await h.createRoom(alice, { preset: 'public_chat' });
      await h.rooms.membership.join(bob.userId, r1);
      await h.send(alice, r1, 'from alice');
      await h.send(bob, r1, 'from bob');
      await h.sync.accountData.set(alice.userId, undefined, 'm.direct', {});
      await h.sync.accountData.set(alice.userId, undefined, 'org.example.hidden', { a: 1 });
      const s = await sync(h, alice, {
        filter: f({
          room: { not_rooms: [r2], timeline: { types: ['m.room.message'], not_senders: [bob.userId] } },
          account_data: { not_types: ['org.example.*'] },
          event_fields: ['type', 'content.body', 'event_id'],
        }),
      });
      assert.equal(s.rooms.join[r2], undefined, 'not_rooms');
      const tl = timeline(s, r1);
      assert.deepEqual(tl.map((e) => e.content.body), ['from alice']);
      assert.deepEqual(Object.keys(tl[0]).sort(), ['content', 'event_id', 'type'], 'event_fields');
      assert.deepEqual(s.account_data.events.map((e: Json) => e.type), ['m.direct']);
    });
  });

  it('it should give raw PDUs with event_format federation', async () => {
    await withSyncServer(async (h) => {
      const alice = h.user('alice');
      const roomId = await h.createRoom(alice);
      await h.send(alice, roomId, 'raw');
      const s = await sync(h, alice, { filter: f({ event_format: 'federation' }) });
      const last = timeline(s, roomId).at(-1);
      assert.ok(Array.isArray(last.auth_events) && Array.isArray(last.prev_events), 'federation format has the graph fields');
      assert.equal(typeof last.depth, 'number');
    });
  });

  it('it should store filters per user and refuse other users', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const body = { room: { timeline: { limit: 2 } }, 'org.example': 1 };
      const created = await h.call('POST', `${C}/user/${alice.userId}/filter`, { token: alice.token, body });
      assert.equal(created.status, 200, JSON.stringify(created.json));
      assert.ok(!created.json.filter_id.startsWith('{'));
      const again = await h.call('POST', `${C}/user/${alice.userId}/filter`, { token: alice.token, body });
      assert.equal(again.json.filter_id, created.json.filter_id, 'the same filter gets the same ID');
      const got = await h.call('GET', `${C}/user/${alice.userId}/filter/${created.json.filter_id}`, { token: alice.token });
      assert.deepEqual(got.json, body);
      assert.equal((await h.call('GET', `${C}/user/${alice.userId}/filter/nope`, { token: alice.token })).json.errcode, 'M_NOT_FOUND');
      const other = await h.call('POST', `${C}/user/${alice.userId}/filter`, { token: bob.token, body });
      assert.equal(other.status, 403);
      assert.equal(other.json.errcode, 'M_FORBIDDEN');
      const bad = await h.call('POST', `${C}/user/${alice.userId}/filter`, { token: alice.token, body: { room: { timeline: { limit: 'x' } } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_BAD_JSON');
      const roomId = await h.createRoom(alice);
      const s = await sync(h, alice, { filter: created.json.filter_id });
      assert.equal(s.rooms.join[roomId].timeline.events.length, 2);
      assert.equal((await h.syncRaw(alice, { filter: 'unknown' })).json.errcode, 'M_INVALID_PARAM');
      assert.equal((await h.syncRaw(alice, { filter: '{not json' })).json.errcode, 'M_NOT_JSON');
      assert.equal((await h.syncRaw(alice, { since: 'garbage' })).json.errcode, 'M_INVALID_PARAM');
    });
  });

  it('it should lazy-load members: only timeline senders, the user, and heroes', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob, carol, dan, erin, fay, gus] = ['alice', 'bob', 'carol', 'dan', 'erin', 'fay', 'gus'].map((n) => h.user(n));
      const roomId = await h.createRoom(alice, { preset: 'public_chat' });
      for (const u of [bob, carol, dan, erin, fay, gus]) await h.rooms.membership.join(u.userId, roomId);
      for (let i = 0; i < 5; i++) await h.send(carol, roomId, `carol ${i}`);
      const lazy = { room: { timeline: { limit: 3 }, state: { lazy_load_members: true } } };
      const s = await sync(h, bob, { filter: f(lazy) });
      const room = s.rooms.join[roomId];
      const members = room.state.events.filter((e: Json) => e.type === 'm.room.member').map((e: Json) => e.state_key).sort();
      const expected = new Set([carol.userId, bob.userId, ...room.summary['m.heroes']]);
      assert.deepEqual(members, [...expected].sort());
      assert.ok(!members.includes(gus.userId), 'a silent non-hero member is not loaded');
      assert.ok(room.state.events.some((e: Json) => e.type === 'm.room.create'), 'other state stays');
    });
  });
});

describe('ephemeral and account data in sync', () => {
  it('it should show typing, receipts and account data exactly once in the next incremental sync', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      const msg = await h.send(alice, roomId, 'read me');
      const since = (await sync(h, bob)).next_batch;

      const enc = encodeURIComponent;
      assert.equal((await h.call('PUT', `${C}/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { token: alice.token, body: { typing: true, timeout: 20000 } })).status, 200);
      assert.equal((await h.call('POST', `${C}/rooms/${enc(roomId)}/receipt/m.read/${enc(msg)}`, { token: alice.token, body: {} })).status, 200);
      assert.equal((await h.call('PUT', `${C}/user/${enc(bob.userId)}/account_data/org.example.config`, { token: bob.token, body: { x: 1 } })).status, 200);
      assert.equal((await h.call('PUT', `${C}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.tag`, { token: bob.token, body: { tags: { u: {} } } })).status, 200);

      const s1 = await sync(h, bob, { since });
      const room = s1.rooms.join[roomId];
      const typing = room.ephemeral.events.find((e: Json) => e.type === 'm.typing');
      assert.deepEqual(typing.content.user_ids, [alice.userId]);
      const receipt = room.ephemeral.events.find((e: Json) => e.type === 'm.receipt');
      assert.equal(typeof receipt.content[msg]['m.read'][alice.userId].ts, 'number');
      assert.deepEqual(s1.account_data.events, [{ type: 'org.example.config', content: { x: 1 } }]);
      assert.deepEqual(room.account_data.events, [{ type: 'm.tag', content: { tags: { u: {} } } }]);
      assert.deepEqual(room.timeline.events, [], 'no timeline events came with them');

      const s2 = await sync(h, bob, { since: s1.next_batch });
      assert.equal(s2.rooms.join[roomId], undefined, 'each only once');
      assert.deepEqual(s2.account_data.events, []);

      // Typing stops: an update with nobody typing.
      await h.call('PUT', `${C}/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { token: alice.token, body: { typing: false } });
      const s3 = await sync(h, bob, { since: s2.next_batch });
      assert.deepEqual(s3.rooms.join[roomId].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [] } }]);
    });
  });

  it('it should show a private receipt only to its owner and count unread messages from others', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      const m1 = await h.send(alice, roomId, 'one');
      await h.send(alice, roomId, `two for ${bob.userId}`, { 'm.mentions': { user_ids: [bob.userId] } });
      await h.send(alice, roomId, 'three');
      const before = await sync(h, bob);
      assert.deepEqual(before.rooms.join[roomId].unread_notifications, { notification_count: 3, highlight_count: 1 });
      const aliceSince = (await sync(h, alice)).next_batch;
      const res = await h.call('POST', `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read.private/${encodeURIComponent(m1)}`, { token: bob.token, body: {} });
      assert.equal(res.status, 200);
      const after = await sync(h, bob, { since: before.next_batch });
      const own = after.rooms.join[roomId].ephemeral.events.find((e: Json) => e.type === 'm.receipt');
      assert.ok(own.content[m1]['m.read.private'][bob.userId], 'the owner sees it');
      assert.deepEqual(after.rooms.join[roomId].unread_notifications, { notification_count: 2, highlight_count: 1 });
      const forAlice = await sync(h, alice, { since: aliceSince });
      assert.equal(forAlice.rooms.join[roomId], undefined, 'nobody else does');
      const initialAlice = await sync(h, alice);
      assert.ok(!JSON.stringify(initialAlice.rooms.join[roomId].ephemeral).includes('m.read.private'));
    });
  });
});

describe('long-polling', () => {
  it('it should hold a sync until something arrives, then return it at once', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      const since = (await sync(h, bob)).next_batch;
      const t0 = Date.now();
      const poll = sync(h, bob, { since, timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 300));
      const sentAt = Date.now();
      const id = await h.send(alice, roomId, 'wake up');
      const s = await poll;
      assert.ok(Date.now() - t0 >= 290, 'it waited');
      assert.ok(Date.now() - sentAt < 1500, 'it woke promptly');
      assert.deepEqual(messages(timeline(s, roomId)).map((e) => e.event_id), [id]);
    });
  });

  it('it should hold a poll from the latest token without building an answer until a message arrives, then deliver it', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      const since = (await sync(h, bob)).next_batch;
      // Count the answers built (the rooms section is built once per answer).
      const rooms = (h.sync.sync as unknown as { deps: { rooms: { build: (w: unknown) => Promise<unknown> } } }).deps.rooms;
      const build = rooms.build.bind(rooms);
      let builds = 0;
      rooms.build = (w) => (builds++, build(w));
      const poll = sync(h, bob, { since, timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(builds, 0, 'nothing built while nothing happened since the token');
      const id = await h.send(alice, roomId, 'wake up');
      const s = await poll;
      assert.deepEqual(messages(timeline(s, roomId)).map((e) => e.event_id), [id]);
      assert.equal(builds, 1);
      // A poll from a token something happened after is answered at once.
      const again = await sync(h, bob, { since, timeout: 10_000 });
      assert.deepEqual(messages(timeline(again, roomId)).map((e) => e.event_id), [id]);
    });
  });

  it('it should wake for an invite to a room the user is not in', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const roomId = await h.createRoom(alice);
      const since = (await sync(h, bob)).next_batch;
      const poll = sync(h, bob, { since, timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      await h.rooms.membership.invite(alice.userId, roomId, bob.userId);
      const s = await poll;
      assert.ok(s.rooms.invite[roomId]);
    });
  });

  it('it should not wake for another room, and return an empty response after the timeout', async () => {
    await withSyncServer(async (h) => {
      const [alice, bob] = [h.user('alice'), h.user('bob')];
      const mine = await h.createRoom(bob);
      const theirs = await h.createRoom(alice);
      const since = (await sync(h, bob)).next_batch;
      const t0 = Date.now();
      const poll = sync(h, bob, { since, timeout: 600 });
      await h.send(alice, theirs, 'not for bob');
      const s = await poll;
      const took = Date.now() - t0;
      assert.ok(took >= 590 && took < 3000, `took ${took} ms`);
      assert.deepEqual(s.rooms.join, {});
      assert.equal(s.rooms.join[mine], undefined);
    });
  });

  it('it should wake for typing and for the user\'s own account data', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await bobInAlicesRoom(h);
      let since = (await sync(h, bob)).next_batch;
      let poll = sync(h, bob, { since, timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      await h.sync.typing.setTyping(alice.userId, alice.userId, roomId, true, 10_000);
      let s = await poll;
      assert.ok(s.rooms.join[roomId].ephemeral.events.some((e: Json) => e.type === 'm.typing'));
      since = s.next_batch;
      poll = sync(h, bob, { since, timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      await h.sync.accountData.set(bob.userId, undefined, 'org.example.x', { y: 2 });
      s = await poll;
      assert.deepEqual(s.account_data.events, [{ type: 'org.example.x', content: { y: 2 } }]);
    });
  });
});
