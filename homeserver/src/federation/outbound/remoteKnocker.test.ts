// Remote knocks against a fake resident that builds and signs real events: make_knock →
// our signed knock → send_knock → the knock is kept locally and /sync shows rooms.knock;
// the resident then invites the knocker and the knocker joins through it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventIdOf } from '@parley/federation/core/eventId';
import type { Pdu } from '@parley/federation/core/types';
import { verifyEventSignature } from '@parley/federation/signing/signEvent';
import { roomFeatureRoutes } from '../../api/client/roomFeatures.js';
import { roomMembershipRoutes } from '../../api/client/roomMembership.js';
import type { Route } from '../../http/route.js';
import { openInboundKit, REMOTE, rulesOf, US, type InboundKit } from '../testing/inboundKit.js';
import { FederationDirectory } from './remoteDirectory.js';
import { FederationRemoteJoiner } from './remoteJoiner.js';
import { FederationRemoteKnocker, writerKnockRecorder } from './remoteKnocker.js';
import { LateRoomPorts } from './lateRoomPorts.js';

const unused = () => {
  throw new Error('not used in this test');
};

async function setup(version = '12', joinRule = 'knock'): Promise<{ kit: InboundKit; roomId: string; alice: string }> {
  const ports = new LateRoomPorts();
  const kit = await openInboundKit({
    remotePorts: { remoteJoiner: ports, remoteKnocker: ports },
    clientRoutes: (k) =>
      [
        ...roomMembershipRoutes(k.rooms.membership),
        ...roomFeatureRoutes({
          membership: k.rooms.membership,
          upgrader: { upgrade: unused },
          reports: { reportEvent: unused, reportRoom: unused, reportUser: unused },
          timestampToEvent: unused,
          hierarchy: { hierarchy: unused },
        }),
      ] as Route<unknown, unknown>[],
  });
  const directory = new FederationDirectory(kit.net);
  const common = { serverName: US, signingKey: kit.ourKey, client: kit.net, directory };
  ports.bindKnocker(new FederationRemoteKnocker({ ...common, recorder: writerKnockRecorder(kit.rooms.writer) }));
  ports.bindJoiner(new FederationRemoteJoiner({ ...common, ingest: kit.ingest }));
  const { roomId } = kit.remote.createRoom(version, 'alice');
  const alice = kit.remote.user('alice');
  kit.remote.build(roomId, { type: 'm.room.join_rules', sender: alice, stateKey: '', content: { join_rule: joinRule } });
  kit.remote.build(roomId, { type: 'm.room.name', sender: alice, stateKey: '', content: { name: 'Knock knock' } });
  kit.remote.serveHandshakes(roomId);
  return { kit, roomId, alice };
}

const enc = encodeURIComponent;

test('it should knock on a remote room through the via server and show it under rooms.knock in /sync', async () => {
  const { kit, roomId } = await setup();
  try {
    const bob = kit.local('bob');
    const res = await kit.clientCall('POST', `/_matrix/client/v3/knock/${enc(roomId)}?via=${REMOTE}`, bob.token, { reason: 'let me in' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, { room_id: roomId });

    const makeKnock = kit.remote.calls.find((c) => c.path.includes('/make_knock/'))!;
    assert.match(makeKnock.path, /[?&]ver=12(&|$)/, 'our knock-capable versions are offered');
    assert.doesNotMatch(makeKnock.path, /[?&]ver=6(&|$)/, 'versions without knocking are not offered');
    const sent = kit.remote.calls.find((c) => c.path.includes('/send_knock/'))!.body as Pdu;
    const rules = rulesOf('12');
    assert.equal(sent.content.membership, 'knock');
    assert.equal(sent.content.reason, 'let me in');
    assert.ok(verifyEventSignature(sent, rules, US, kit.ourKey.keyId, kit.ourKey.publicKey), 'the knock carries our valid signature');
    assert.ok(kit.remote.calls.find((c) => c.path.includes('/send_knock/'))!.path.endsWith(enc(eventIdOf(sent, rules))));

    const sync = await kit.clientCall('GET', '/_matrix/client/v3/sync', bob.token);
    assert.equal(sync.status, 200);
    const knocked = sync.json.rooms.knock[roomId];
    assert.ok(knocked, 'the room is listed under rooms.knock');
    const events = knocked.knock_state.events as Array<{ type: string; state_key: string; content: Record<string, unknown> }>;
    assert.ok(events.some((e) => e.type === 'm.room.create'), 'stripped state includes the create event');
    assert.equal(events.find((e) => e.type === 'm.room.name')?.content.name, 'Knock knock');
    const own = events.at(-1)!;
    assert.equal(own.type, 'm.room.member');
    assert.equal(own.state_key, bob.userId);
    assert.equal(own.content.membership, 'knock');
    assert.equal(sync.json.rooms.join[roomId], undefined);
  } finally {
    await kit.close();
  }
});

test('it should let the knocker join once the resident invites them', async () => {
  const { kit, roomId, alice } = await setup();
  try {
    const bob = kit.local('bob');
    assert.equal((await kit.clientCall('POST', `/_matrix/client/v3/knock/${enc(roomId)}?server_name=${REMOTE}`, bob.token, {})).status, 200);
    const first = await kit.clientCall('GET', '/_matrix/client/v3/sync', bob.token);

    // The resident's admin invites the knocking user; our server has countersigned it (as /invite does).
    const invite = kit.remote.build(roomId, {
      type: 'm.room.member',
      sender: alice,
      stateKey: bob.userId,
      content: { membership: 'invite' },
      alsoSignedBy: [{ serverName: US, key: kit.ourKey }],
    });
    await kit.ingest.ingestInvite('12', invite.pdu, []);
    const second = await kit.clientCall('GET', `/_matrix/client/v3/sync?since=${first.json.next_batch}`, bob.token);
    assert.ok(second.json.rooms.invite[roomId], 'the invite replaces the knock');

    const join = await kit.clientCall('POST', `/_matrix/client/v3/join/${enc(roomId)}`, bob.token, {});
    assert.equal(join.status, 200, JSON.stringify(join.json));
    assert.equal((await kit.rooms.reader.membership(roomId, bob.userId))?.membership, 'join');
    const sync = await kit.clientCall('GET', `/_matrix/client/v3/sync?since=${second.json.next_batch}`, bob.token);
    assert.ok(sync.json.rooms.join[roomId], 'the room is joined');
    assert.equal(sync.json.rooms.knock[roomId], undefined);
  } finally {
    await kit.close();
  }
});

test('it should pass on the resident refusing a knock and remember nothing', async () => {
  const { kit, roomId } = await setup('12', 'invite');
  kit.remote.override((req) =>
    req.path.includes('/make_knock/') ? { ok: false, kind: 'http', status: 403, errcode: 'M_FORBIDDEN', error: 'You are not allowed to knock' } : undefined,
  );
  try {
    const bob = kit.local('bob');
    const res = await kit.clientCall('POST', `/_matrix/client/v3/knock/${enc(roomId)}?via=${REMOTE}&via=other.test`, bob.token, {});
    assert.equal(res.status, 403);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
    assert.ok(!kit.remote.calls.some((c) => c.path.includes('/send_knock/')));
    assert.equal(await kit.rooms.reader.membership(roomId, bob.userId), undefined);
  } finally {
    await kit.close();
  }
});

test('it should refuse to knock on a room version without knocking, and answer 404 without any server to ask', async () => {
  const { kit, roomId } = await setup('6', 'public');
  try {
    const bob = kit.local('bob');
    const res = await kit.clientCall('POST', `/_matrix/client/v3/knock/${enc(roomId)}`, bob.token, {});
    // A v6 room ID names its server, so it is asked; it offers a version without knocks.
    assert.equal(res.status, 400);
    assert.equal(res.json.errcode, 'M_INCOMPATIBLE_ROOM_VERSION');
    const v12 = kit.remote.createRoom('12', 'carol').roomId;
    const none = await kit.clientCall('POST', `/_matrix/client/v3/knock/${enc(v12)}`, bob.token, {});
    assert.equal(none.status, 404);
    assert.equal(none.json.errcode, 'M_NOT_FOUND');
  } finally {
    await kit.close();
  }
});
