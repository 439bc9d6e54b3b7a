// The serving federation API through the real HTTP stack (createApp, X-Matrix checks with
// real keys fetched from the fake remote, LevelDB): /send, the graph reads, the join
// handshake as the resident server, invites of our users.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson } from '@parley/federation/core/canonicalJson';
import { referenceHashObject } from '@parley/federation/core/eventRefs';
import { roomVersion } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type JsonObject, type Pdu } from '@parley/federation/core/types';
import { hashAndSignEvent, signEvent, verifyEventSignature } from '@parley/federation/signing/signEvent';
import { openInboundKit, REMOTE, US, type InboundKit } from '../testing/inboundKit.js';
import { FakeRemoteServer } from '../testing/fakeRemote.js';
import { inboundFederationRoutes } from './inboundRoutes.js';

const F = '/_matrix/federation';

async function withKit(fn: (k: InboundKit) => Promise<void>): Promise<void> {
  const typing: string[] = [];
  const k = await openInboundKit({
    routes: (kit) =>
      inboundFederationRoutes({
        serverName: US,
        signingKey: kit.ourKey,
        reader: kit.rooms.reader,
        ingest: kit.ingest,
        keys: kit.fed.keyRing,
        edus: { typing: async (roomId, userId, t) => void typing.push(`${roomId} ${userId} ${t}`) },
        query: {
          profile: async (userId) => (userId === `@alice:${US}` ? { displayname: 'Alice' } : undefined),
          alias: (alias) => kit.rooms.aliases.resolve(alias).catch(() => undefined),
        },
      }),
  });
  try {
    await fn(k);
  } finally {
    await k.close();
  }
}

test('it should accept a transaction, answer per PDU, and give a retried transaction the same answer without re-processing', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const msg = k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: 'via send' } });
    const body = { origin: REMOTE, origin_server_ts: Date.now(), pdus: [msg.pdu] };
    const first = await k.fedCall('PUT', `${F}/v1/send/txn1`, body);
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, { pdus: { [msg.eventId]: {} } });
    const again = await k.fedCall('PUT', `${F}/v1/send/txn1`, body);
    assert.deepEqual(again.json, first.json);
    const sync = await k.clientCall('GET', '/_matrix/client/v3/sync', alice.token);
    const bodies = sync.json.rooms.join[roomId].timeline.events.map((e: { content: { body?: string } }) => e.content.body).filter(Boolean);
    assert.deepEqual(bodies, ['via send']);
  });
});

test('it should refuse a transaction of 51 PDUs with 400, and garbage JSON with M_NOT_JSON', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const pdus = Array.from({ length: 51 }, (_, i) =>
      k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: `m${i}` } }).pdu,
    );
    const tooMany = await k.fedCall('PUT', `${F}/v1/send/big`, { origin: REMOTE, origin_server_ts: 1, pdus });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.json.errcode, 'M_BAD_JSON');
    assert.equal(await k.rooms.reader.getEvent(k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { body: 'x' } }).eventId), undefined);
    const garbage = await k.fedCall('PUT', `${F}/v1/send/garbage`, '{"pdus": [nope');
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.errcode, 'M_NOT_JSON');
    // The server keeps serving.
    const ok = await k.fedCall('PUT', `${F}/v1/send/after`, { origin: REMOTE, origin_server_ts: 1, pdus: [pdus[0]] });
    assert.equal(ok.status, 200);
  });
});

test('it should refuse unsigned and wrongly signed federation requests with 401 M_UNAUTHORIZED', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    const unsigned = await k.clientCall('GET', `${F}/v1/state_ids/${encodeURIComponent(roomId)}?event_id=x`, 'nope');
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.errcode, 'M_UNAUTHORIZED');
    const impostor = new FakeRemoteServer(REMOTE, Buffer.alloc(32, 1)); // same name, other key
    const forged = await k.fedCall('GET', `${F}/v1/state_ids/${encodeURIComponent(roomId)}?event_id=x`, undefined, impostor);
    assert.equal(forged.status, 401);
  });
});

test('it should answer state_ids and backfill from the room graph, and only to servers in the room', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const m1 = await k.rooms.events.send(alice, roomId, 'm.room.message', 'a', { msgtype: 'm.text', body: 'one' });
    const m2 = await k.rooms.events.send(alice, roomId, 'm.room.message', 'b', { msgtype: 'm.text', body: 'two' });
    const r = encodeURIComponent(roomId);

    const ids = await k.fedCall('GET', `${F}/v1/state_ids/${r}?event_id=${encodeURIComponent(m2)}`);
    assert.equal(ids.status, 200);
    const expected = await k.rooms.reader.stateBefore(m2);
    assert.deepEqual(new Set(ids.json.pdu_ids), new Set(expected!.values()));
    assert.ok(ids.json.pdu_ids.includes(expected!.get(stateKeyOf('m.room.member', k.remote.user('bob')))));

    const back = await k.fedCall('GET', `${F}/v1/backfill/${r}?v=${encodeURIComponent(m2)}&limit=2`);
    assert.equal(back.status, 200);
    assert.equal(back.json.origin, US);
    const backIds = back.json.pdus.map((p: { content: { body?: string } }) => p.content.body);
    assert.deepEqual(backIds, ['two', 'one']);

    const stranger = k.net.add(new FakeRemoteServer('stranger.test'));
    const denied = await k.fedCall('GET', `${F}/v1/state_ids/${r}?event_id=${encodeURIComponent(m2)}`, undefined, stranger);
    assert.equal(denied.status, 403);
    assert.equal(denied.json.errcode, 'M_FORBIDDEN');
  });
});

test('it should let a remote user join through make_join and send_join, returning the room state, and show the join locally', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    const carol = k.remote.user('carol');
    const r = encodeURIComponent(roomId);
    const wrongVersion = await k.fedCall('GET', `${F}/v1/make_join/${r}/${encodeURIComponent(carol)}?ver=10`);
    assert.equal(wrongVersion.status, 400);
    assert.equal(wrongVersion.json.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');

    const make = await k.fedCall('GET', `${F}/v1/make_join/${r}/${encodeURIComponent(carol)}?ver=11&ver=12`);
    assert.equal(make.status, 200);
    assert.equal(make.json.room_version, '12');
    await k.teachRemote(roomId);
    const join = k.remote.signTemplate(make.json.room_version, make.json.event);
    const send = await k.fedCall('PUT', `${F}/v2/send_join/${r}/${encodeURIComponent(join.eventId)}`, join.pdu);
    assert.equal(send.status, 200, JSON.stringify(send.json));
    const types = send.json.state.map((e: { type: string }) => e.type);
    assert.ok(types.includes('m.room.create') && types.includes('m.room.power_levels') && types.includes('m.room.join_rules'));
    assert.ok(send.json.event.signatures[US], 'the resident co-signed the join');
    assert.equal((await k.rooms.reader.membership(roomId, carol))?.membership, 'join');
  });
});

test('it should let a remote user knock through make_knock and send_knock, answering with the room state as full signed PDUs', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.rooms.events.setState(alice, roomId, 'm.room.join_rules', '', { join_rule: 'knock' });
    const dan = k.remote.user('dan');
    const r = encodeURIComponent(roomId);
    const make = await k.fedCall('GET', `${F}/v1/make_knock/${r}/${encodeURIComponent(dan)}?ver=12`);
    assert.equal(make.status, 200, JSON.stringify(make.json));
    await k.teachRemote(roomId);
    const knock = k.remote.signTemplate(make.json.room_version, make.json.event);
    const send = await k.fedCall('PUT', `${F}/v1/send_knock/${r}/${encodeURIComponent(knock.eventId)}`, knock.pdu);
    assert.equal(send.status, 200, JSON.stringify(send.json));
    const create = send.json.knock_room_state.find((e: { type: string }) => e.type === 'm.room.create');
    assert.ok(create, 'knocks.yaml (v1.16+): the create event is included');
    assert.ok(create.signatures?.[US] && create.hashes?.sha256, 'as a full PDU, signed and hashed');
    assert.equal((await k.rooms.reader.membership(roomId, dan))?.membership, 'knock');
  });
});

test('it should refuse make_join for a user of another server and for a room the user may not join', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    const r = encodeURIComponent(roomId);
    const foreign = await k.fedCall('GET', `${F}/v1/make_join/${r}/${encodeURIComponent('@eve:elsewhere.test')}?ver=12`);
    assert.equal(foreign.status, 403);
    await k.rooms.events.setState(alice, roomId, 'm.room.join_rules', '', { join_rule: 'invite' });
    const closed = await k.fedCall('GET', `${F}/v1/make_join/${r}/${encodeURIComponent(k.remote.user('dan'))}?ver=12`);
    assert.equal(closed.status, 403);
  });
});

test('it should co-sign an invite of a local user to a remote room and show it in the user’s /sync', async () => {
  await withKit(async (k) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const invite = k.remote.build(roomId, {
      type: 'm.room.member',
      sender: k.remote.user('owner'),
      stateKey: bea.userId,
      content: { membership: 'invite' },
    });
    const res = await k.fedCall('PUT', `${F}/v2/invite/${encodeURIComponent(roomId)}/${encodeURIComponent(invite.eventId)}`, {
      room_version: '12',
      event: invite.pdu,
      invite_room_state: [{ type: 'm.room.name', state_key: '', sender: k.remote.user('owner'), content: { name: 'Remote room' } }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.event.signatures[US]);
    const sync = await k.clientCall('GET', '/_matrix/client/v3/sync', bea.token);
    const invited = sync.json.rooms.invite[roomId];
    assert.ok(invited, 'the room is listed under rooms.invite');
    assert.ok(invited.invite_state.events.some((e: { type: string; content: { name?: string } }) => e.content.name === 'Remote room'));
  });
});

test('it should answer /event for a server in the room and 404 for an unknown event', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const m = await k.rooms.events.send(alice, roomId, 'm.room.message', 'e', { msgtype: 'm.text', body: 'fetch me' });
    const got = await k.fedCall('GET', `${F}/v1/event/${encodeURIComponent(m)}`);
    assert.equal(got.status, 200);
    assert.equal(got.json.pdus[0].content.body, 'fetch me');
    assert.equal(got.json.pdus[0].unsigned, undefined);
    const missing = await k.fedCall('GET', `${F}/v1/event/${encodeURIComponent('$nope')}`);
    assert.equal(missing.status, 404);
  });
});

test('it should answer profile and directory queries about our users and aliases, 404 otherwise', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const { room_id } = await k.rooms.creator.createRoom(alice, { preset: 'public_chat', room_alias_name: 'lobby' });
    const dir = await k.fedCall('GET', `${F}/v1/query/directory?room_alias=${encodeURIComponent(`#lobby:${US}`)}`);
    assert.equal(dir.status, 200);
    assert.equal(dir.json.room_id, room_id);
    assert.ok(dir.json.servers.includes(US));
    const none = await k.fedCall('GET', `${F}/v1/query/directory?room_alias=${encodeURIComponent(`#nope:${US}`)}`);
    assert.equal(none.status, 404);
    const profile = await k.fedCall('GET', `${F}/v1/query/profile?user_id=${encodeURIComponent(alice.userId)}&field=displayname`);
    assert.deepEqual(profile.json, { displayname: 'Alice' });
    const ghost = await k.fedCall('GET', `${F}/v1/query/profile?user_id=${encodeURIComponent(`@ghost:${US}`)}`);
    assert.equal(ghost.status, 404);
  });
});

test('it should serve a v1 room: make_join pairs each reference with its reference hash, signed v1 joins and messages are accepted, and /event returns them byte for byte', async () => {
  await withKit(async (k) => {
    const rules = roomVersion('1')!;
    const roomId = await k.createRoom('alice', '1');
    const carol = k.remote.user('carol');
    const r = encodeURIComponent(roomId);
    const make = await k.fedCall('GET', `${F}/v1/make_join/${r}/${encodeURIComponent(carol)}?ver=1`);
    assert.equal(make.status, 200, JSON.stringify(make.json));
    assert.equal(make.json.room_version, '1');
    const tpl = make.json.event as Pdu;
    const refs = [...tpl.prev_events, ...tpl.auth_events] as unknown as Array<[string, JsonObject]>;
    assert.ok(refs.length >= 3 && refs.every((ref) => Array.isArray(ref) && ref[0].endsWith(`:${US}`)), 'v1 templates reference events by [ID, hash] pairs');
    for (const [id, hash] of refs) assert.deepEqual(hash, referenceHashObject((await k.rooms.reader.getEvent(id))!, rules));

    // The remote completes and signs the template as it is (pairs included), with an ID of its own.
    const join = hashAndSignEvent({ ...tpl, event_id: `$join1:${REMOTE}`, hashes: { sha256: '' }, signatures: {} }, rules, REMOTE, k.remote.key);
    const sent = await k.fedCall('PUT', `${F}/v2/send_join/${r}/${encodeURIComponent(join.event_id!)}`, join);
    assert.equal(sent.status, 200, JSON.stringify(sent.json));
    assert.equal(canonicalJson(sent.json.event), canonicalJson(signEvent(join, rules, US, k.ourKey) as never), 'the join comes back as signed, co-signed by us');
    const state = sent.json.state as Pdu[];
    for (const e of state) assert.ok(verifyEventSignature(e, rules, US, k.ourKey.keyId, k.ourKey.publicKey), `our signature on ${e.type} verifies`);
    assert.equal((await k.rooms.reader.membership(roomId, carol))?.membership, 'join');

    // A message on top of the join, referencing it and the state by pairs, over /send.
    const pair = (e: Pdu) => [e.event_id, referenceHashObject({ pdu: e }, rules)];
    const stateOf = (type: string) => state.find((e) => e.type === type)!;
    const msg = hashAndSignEvent(
      {
        event_id: `$msg1:${REMOTE}`,
        room_id: roomId,
        type: 'm.room.message',
        sender: carol,
        content: { msgtype: 'm.text', body: 'hello v1' },
        origin_server_ts: Date.now(),
        depth: join.depth + 1,
        prev_events: [pair(join)],
        auth_events: [pair(stateOf('m.room.create')), pair(stateOf('m.room.power_levels')), pair(join)],
        hashes: { sha256: '' },
        signatures: {},
      } as unknown as Pdu,
      rules,
      REMOTE,
      k.remote.key,
    );
    const txn = await k.fedCall('PUT', `${F}/v1/send/v1txn`, { origin: REMOTE, origin_server_ts: Date.now(), pdus: [msg] });
    assert.deepEqual(txn.json.pdus, { [msg.event_id!]: {} });
    const held = (await k.rooms.reader.getEvent(msg.event_id!))!;
    assert.deepEqual(held.pdu.prev_events, [join.event_id], 'held with bare IDs');
    const got = await k.fedCall('GET', `${F}/v1/event/${encodeURIComponent(msg.event_id!)}`);
    assert.equal(got.status, 200);
    assert.equal(canonicalJson(got.json.pdus[0]), canonicalJson(msg as never), 'served exactly as it was signed');
  });
});
