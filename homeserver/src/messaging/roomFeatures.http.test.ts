import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReportsRepo } from '../storage/reportsRepo.js';
import { bobInAlicesRoom, C1, C3, enc, withMessagingServer } from './testHarness.js';

test('it should upgrade a room: new room with predecessor and copied state, tombstone and silenced old room, alias moved', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const old = await h.createRoom(alice, { preset: 'public_chat', name: 'Cake club', topic: 'All about cake', room_alias_name: 'cake', room_version: '11' });
    await h.rooms.membership.join(bob.userId, old);
    const refused = await h.call('POST', `${C3}/rooms/${enc(old)}/upgrade`, { token: bob.token, body: { new_version: '12' } });
    assert.equal(refused.status, 403);
    const badVersion = await h.call('POST', `${C3}/rooms/${enc(old)}/upgrade`, { token: alice.token, body: { new_version: '999' } });
    assert.equal(badVersion.json.errcode, 'M_UNSUPPORTED_ROOM_VERSION');

    const res = await h.call('POST', `${C3}/rooms/${enc(old)}/upgrade`, { token: alice.token, body: { new_version: '12' } });
    assert.equal(res.status, 200);
    const newRoom = res.json.replacement_room as string;
    assert.notEqual(newRoom, old);

    const state = (await h.call('GET', `${C3}/rooms/${enc(newRoom)}/state`, { token: alice.token })).json as Array<{
      type: string;
      content: Record<string, unknown>;
    }>;
    const of = (t: string) => state.find((e) => e.type === t)?.content;
    assert.equal((of('m.room.create')!.predecessor as { room_id: string }).room_id, old);
    assert.equal(of('m.room.create')!.room_version, '12');
    assert.equal(of('m.room.name')!.name, 'Cake club');
    assert.equal(of('m.room.topic')!.topic, 'All about cake');
    assert.equal(of('m.room.join_rules')!.join_rule, 'public');
    assert.equal(of('m.room.canonical_alias')!.alias, `#cake:example.test`);
    // v12: the creator is implicit and not listed in power levels.
    assert.equal((of('m.room.power_levels')!.users as Record<string, number>)[alice.userId], undefined);

    const tomb = await h.call('GET', `${C3}/rooms/${enc(old)}/state/m.room.tombstone/`, { token: bob.token });
    assert.equal(tomb.json.replacement_room, newRoom);
    const pl = await h.call('GET', `${C3}/rooms/${enc(old)}/state/m.room.power_levels/`, { token: bob.token });
    assert.equal(pl.json.events_default, 50);
    assert.equal(pl.json.invite, 50);
    const silenced = await h.send(bob, old, { msgtype: 'm.text', body: 'still here?' });
    assert.equal(silenced.status, 403);
    const alias = await h.rooms.aliases.resolve('#cake:example.test');
    assert.equal(alias.room_id, newRoom);
  });
});

test('it should let a user knock, then be invited and join; a rejected knock is a kick', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const carol = h.user('carol');
    const roomId = await h.createRoom(alice, { initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }] });
    const knock = await h.call('POST', `${C3}/knock/${enc(roomId)}`, { token: bob.token, body: { reason: 'let me in' } });
    assert.equal(knock.status, 200);
    assert.equal(knock.json.room_id, roomId);
    const sync = await h.call('GET', `${C3}/sync`, { token: bob.token });
    const knockState = sync.json.rooms.knock[roomId].knock_state.events as Array<{ type: string; content: Record<string, unknown> }>;
    assert.ok(knockState.some((e) => e.type === 'm.room.join_rules' && e.content.join_rule === 'knock'));
    assert.ok(knockState.some((e) => e.type === 'm.room.member' && e.content.membership === 'knock'));
    // Knocking is no way in by itself.
    assert.equal((await h.call('POST', `${C3}/rooms/${enc(roomId)}/join`, { token: bob.token, body: {} })).status, 403);

    const invite = await h.call('POST', `${C3}/rooms/${enc(roomId)}/invite`, { token: alice.token, body: { user_id: bob.userId } });
    assert.equal(invite.status, 200);
    assert.equal((await h.call('POST', `${C3}/rooms/${enc(roomId)}/join`, { token: bob.token, body: {} })).status, 200);
    assert.equal((await h.rooms.reader.membership(roomId, bob.userId))?.membership, 'join');

    await h.call('POST', `${C3}/knock/${enc(roomId)}`, { token: carol.token, body: {} });
    const kick = await h.call('POST', `${C3}/rooms/${enc(roomId)}/kick`, { token: alice.token, body: { user_id: carol.userId } });
    assert.equal(kick.status, 200);
    assert.equal((await h.rooms.reader.membership(roomId, carol.userId))?.membership, 'leave');

    const publicRoom = await h.createRoom(alice, { preset: 'public_chat' });
    const wrongRule = await h.call('POST', `${C3}/knock/${enc(publicRoom)}`, { token: carol.token, body: {} });
    assert.equal(wrongRule.status, 403);
  });
});

test('it should let members of an allowed room join a restricted room, and refuse others', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const eve = h.user('eve');
    const space = await h.createRoom(alice, { preset: 'public_chat' });
    const restricted = await h.createRoom(alice, {
      initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] } }],
    });
    await h.rooms.membership.join(bob.userId, space);
    const ok = await h.call('POST', `${C3}/join/${enc(restricted)}`, { token: bob.token, body: {} });
    assert.equal(ok.status, 200);
    const member = await h.call('GET', `${C3}/rooms/${enc(restricted)}/state/m.room.member/${enc(bob.userId)}`, { token: bob.token });
    assert.equal(member.json.join_authorised_via_users_server, alice.userId);
    const refused = await h.call('POST', `${C3}/join/${enc(restricted)}`, { token: eve.token, body: {} });
    assert.equal(refused.status, 403);
  });
});

test('it should store reports of visible events and rooms, and 404 for events the reporter cannot see', async () => {
  await withMessagingServer(async (h) => {
    const { alice, bob, roomId } = await bobInAlicesRoom(h);
    const bad = await h.message(alice, roomId, 'something nasty');
    const r = await h.call('POST', `${C3}/rooms/${enc(roomId)}/report/${enc(bad)}`, { token: bob.token, body: { reason: 'nasty', score: -100 } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {});
    const outsider = h.user('eve');
    const hidden = await h.call('POST', `${C3}/rooms/${enc(roomId)}/report/${enc(bad)}`, { token: outsider.token, body: { reason: 'x' } });
    assert.equal(hidden.status, 404);
    const unknownEvent = await h.call('POST', `${C3}/rooms/${enc(roomId)}/report/$nope`, { token: bob.token, body: {} });
    assert.equal(unknownEvent.status, 404);
    // Room reports do not need membership.
    assert.equal((await h.call('POST', `${C3}/rooms/${enc(roomId)}/report`, { token: outsider.token, body: { reason: 'spam room' } })).status, 200);
    assert.equal((await h.call('POST', `${C3}/rooms/${enc('!missing:example.test')}/report`, { token: outsider.token, body: { reason: 'x' } })).status, 404);
    const badBody = await h.call('POST', `${C3}/rooms/${enc(roomId)}/report/${enc(bad)}`, { token: bob.token, body: { reason: 5 } });
    assert.equal(badBody.json.errcode, 'M_BAD_JSON');

    const stored = await new ReportsRepo(h.db).list(10);
    assert.equal(stored.length, 2);
    assert.deepEqual(
      stored.map((s) => s.kind).sort(),
      ['event', 'room'],
    );
    const ev = stored.find((s) => s.kind === 'event')!;
    assert.equal(ev.eventId, bad);
    assert.equal(ev.reporter, bob.userId);
    assert.equal(ev.reason, 'nasty');
  });
});

test('it should find the event nearest to a timestamp in either direction', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const roomId = await h.createRoom(alice);
    const first = await h.message(alice, roomId, 'first');
    await new Promise((r) => setTimeout(r, 15));
    const firstTs = (await h.rooms.reader.getEvent(first))!.pdu.origin_server_ts;
    const second = await h.message(alice, roomId, 'second');
    const secondTs = (await h.rooms.reader.getEvent(second))!.pdu.origin_server_ts;
    assert.ok(secondTs > firstTs);

    const path = `${C1}/rooms/${enc(roomId)}/timestamp_to_event`;
    const fwd = await h.call('GET', `${path}?ts=${firstTs + 1}&dir=f`, { token: alice.token });
    assert.equal(fwd.status, 200);
    assert.deepEqual(fwd.json, { event_id: second, origin_server_ts: secondTs });
    const back = await h.call('GET', `${path}?ts=${secondTs - 1}&dir=b`, { token: alice.token });
    assert.equal(back.json.event_id, first);
    const none = await h.call('GET', `${path}?ts=${secondTs + 100000}&dir=f`, { token: alice.token });
    assert.equal(none.status, 404);
    assert.equal((await h.call('GET', `${path}?dir=f`, { token: alice.token })).json.errcode, 'M_MISSING_PARAM');
    assert.equal((await h.call('GET', `${path}?ts=1&dir=x`, { token: alice.token })).json.errcode, 'M_INVALID_PARAM');
    assert.equal((await h.call('GET', `${path}?ts=1&dir=f`, { token: h.user('eve').token })).status, 403);
  });
});

test('it should walk a space with two children, honour suggested_only and page with next_batch', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const space = await h.createRoom(alice, { preset: 'public_chat', name: 'Space', creation_content: { type: 'm.space' } });
    const a = await h.createRoom(alice, { preset: 'public_chat', name: 'Child A' });
    const b = await h.createRoom(alice, { preset: 'public_chat', name: 'Child B' });
    const secret = await h.createRoom(alice, { name: 'Private' });
    const link = (room: string, extra: Record<string, unknown> = {}) =>
      h.call('PUT', `${C3}/rooms/${enc(space)}/state/m.space.child/${enc(room)}`, { token: alice.token, body: { via: ['example.test'], ...extra } });
    await link(b, { order: 'b' });
    await link(a, { order: 'a', suggested: true });
    await link(secret);

    const res = await h.call('GET', `${C1}/rooms/${enc(space)}/hierarchy`, { token: bob.token });
    assert.equal(res.status, 200);
    const rooms = res.json.rooms as Array<Record<string, unknown>>;
    assert.deepEqual(rooms.map((r) => r.room_id), [space, a, b]);
    assert.equal(rooms[0].room_type, 'm.space');
    assert.equal((rooms[0].children_state as unknown[]).length, 3);
    assert.equal(rooms[1].name, 'Child A');
    assert.equal(rooms[1].join_rule, 'public');
    assert.equal(rooms[1].num_joined_members, 1);

    const suggested = await h.call('GET', `${C1}/rooms/${enc(space)}/hierarchy?suggested_only=true`, { token: bob.token });
    assert.deepEqual(suggested.json.rooms.map((r: { room_id: string }) => r.room_id), [space, a]);
    const p1 = await h.call('GET', `${C1}/rooms/${enc(space)}/hierarchy?limit=2`, { token: bob.token });
    assert.equal(p1.json.rooms.length, 2);
    const p2 = await h.call('GET', `${C1}/rooms/${enc(space)}/hierarchy?limit=2&from=${p1.json.next_batch}`, { token: bob.token });
    assert.deepEqual(p2.json.rooms.map((r: { room_id: string }) => r.room_id), [b]);
    assert.equal(p2.json.next_batch, undefined);
    const changed = await h.call('GET', `${C1}/rooms/${enc(space)}/hierarchy?limit=2&max_depth=1&from=${p1.json.next_batch}`, { token: bob.token });
    assert.equal(changed.json.errcode, 'M_INVALID_PARAM');
    assert.equal((await h.call('GET', `${C1}/rooms/${enc(secret)}/hierarchy`, { token: bob.token })).status, 403);
  });
});

test('it should round-trip room tags through m.tag account data', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const roomId = await h.createRoom(alice);
    const base = `${C3}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/tags`;
    assert.equal((await h.call('PUT', `${base}/m.favourite`, { token: alice.token, body: { order: 0.25 } })).status, 200);
    assert.equal((await h.call('PUT', `${base}/u.work`, { token: alice.token, body: {} })).status, 200);
    assert.deepEqual((await h.call('GET', base, { token: alice.token })).json, { tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} } });
    const sync = await h.call('GET', `${C3}/sync`, { token: alice.token });
    const tagEvent = sync.json.rooms.join[roomId].account_data.events.find((e: { type: string }) => e.type === 'm.tag');
    assert.deepEqual(tagEvent.content.tags['m.favourite'], { order: 0.25 });
    assert.equal((await h.call('DELETE', `${base}/u.work`, { token: alice.token })).status, 200);
    assert.deepEqual((await h.call('GET', base, { token: alice.token })).json, { tags: { 'm.favourite': { order: 0.25 } } });
    const badOrder = await h.call('PUT', `${base}/m.lowpriority`, { token: alice.token, body: { order: 'high' } });
    assert.equal(badOrder.status, 400);
    assert.equal(badOrder.json.errcode, 'M_BAD_JSON');
    const other = h.user('bob');
    assert.equal((await h.call('GET', base, { token: other.token })).status, 403);
  });
});

test('it should list the rooms two users are both joined to', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const shared = await h.createRoom(alice, { preset: 'public_chat' });
    await h.createRoom(alice, { preset: 'public_chat' });
    const left = await h.createRoom(alice, { preset: 'public_chat' });
    await h.rooms.membership.join(bob.userId, shared);
    await h.rooms.membership.join(bob.userId, left);
    await h.rooms.membership.leave(bob.userId, left);
    for (const path of [`${C1}/mutual_rooms`, '/_matrix/client/unstable/uk.half-shot.msc2666/user/mutual_rooms']) {
      const res = await h.call('GET', `${path}?user_id=${enc(bob.userId)}`, { token: alice.token });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json.joined, [shared]);
    }
    assert.deepEqual((await h.call('GET', `${C1}/mutual_rooms?user_id=nonsense`, { token: alice.token })).json, { joined: [], count: 0 });
    assert.equal((await h.call('GET', `${C1}/mutual_rooms`, { token: alice.token })).json.errcode, 'M_MISSING_PARAM');
  });
});
