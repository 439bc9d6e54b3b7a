// /hierarchy across servers: a local space's children this server is not in are asked of
// their via servers (federation hierarchy); a remote space's listed children are used
// without asking again; a root room we do not know is asked of its server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FederationResult } from '@parley/federation/transport/federationClient';
import { roomFeatureRoutes } from '../../api/client/roomFeatures.js';
import type { Route } from '../../http/route.js';
import { SpaceHierarchy } from '../../messaging/hierarchy.js';
import { openInboundKit, REMOTE, US, type InboundKit } from '../testing/inboundKit.js';
import { FederationHierarchy } from './remoteHierarchy.js';

const unused = () => {
  throw new Error('not used in this test');
};

const R1 = '!subspace:remote.test';
const R2 = '!chat:remote.test';
const R3 = '!secret:remote.test';
const R4 = '!private:remote.test';

const link = (roomId: string) => ({ type: 'm.space.child', state_key: roomId, sender: '@alice:remote.test', content: { via: [REMOTE] }, origin_server_ts: 1 });
const summary = (roomId: string, extra: Record<string, unknown> = {}) => ({
  room_id: roomId,
  num_joined_members: 2,
  world_readable: false,
  guest_can_join: false,
  join_rule: 'public',
  children_state: [],
  ...extra,
});

/** The remote server's federation hierarchy answers. */
function remoteSpaces(kit: InboundKit): void {
  kit.remote.override((req, url): FederationResult | undefined => {
    const m = /^\/_matrix\/federation\/v1\/hierarchy\/(.+)$/.exec(decodeURIComponent(url.pathname));
    if (!m) return undefined;
    if (m[1] === R1) {
      return {
        ok: true,
        status: 200,
        body: {
          room: summary(R1, { name: 'Remote subspace', room_type: 'm.space', children_state: [link(R2), link(R3)] }),
          children: [summary(R2, { name: 'Remote chat' })],
          inaccessible_children: [R3],
        },
      };
    }
    if (m[1] === R4) return { ok: true, status: 200, body: { room: summary(R4, { join_rule: 'invite' }), children: [], inaccessible_children: [] } };
    return { ok: false, kind: 'http', status: 404, errcode: 'M_NOT_FOUND', error: 'Unknown room' };
  });
}

async function setup(): Promise<InboundKit> {
  const kit = await openInboundKit({
    clientRoutes: (k) =>
      roomFeatureRoutes({
        membership: { knock: unused },
        upgrader: { upgrade: unused },
        reports: { reportEvent: unused, reportRoom: unused, reportUser: unused },
        timestampToEvent: unused,
        hierarchy: new SpaceHierarchy(k.rooms.reader, { serverName: US, remote: new FederationHierarchy({ client: k.net, serverName: US }) }),
      }) as Route<unknown, unknown>[],
  });
  remoteSpaces(kit);
  return kit;
}

const hierarchyCalls = (kit: InboundKit) => kit.remote.calls.filter((c) => c.path.startsWith('/_matrix/federation/v1/hierarchy/'));

test('it should include children this server is not in, asking their via servers, and skip inaccessible ones', async () => {
  const kit = await setup();
  try {
    const alice = kit.local('alice');
    const { room_id: space } = await kit.rooms.creator.createRoom(alice, { preset: 'public_chat', creation_content: { type: 'm.space' }, name: 'Our space' });
    const { room_id: local } = await kit.rooms.creator.createRoom(alice, { preset: 'public_chat', name: 'Local room' });
    await kit.rooms.events.setState(alice, space, 'm.space.child', local, { via: [US] });
    await kit.rooms.events.setState(alice, space, 'm.space.child', R1, { via: [REMOTE] });
    await kit.rooms.events.setState(alice, space, 'm.space.child', R4, { via: [REMOTE] });

    const res = await kit.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(space)}/hierarchy`, alice.token);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const rooms = res.json.rooms as Array<{ room_id: string; name?: string; children_state: unknown[] }>;
    const ids = rooms.map((r) => r.room_id);
    assert.deepEqual(new Set(ids), new Set([space, local, R1, R2]), 'the invite-only remote room and the inaccessible child are left out');
    assert.equal(rooms.find((r) => r.room_id === R1)?.name, 'Remote subspace');
    assert.equal(rooms.find((r) => r.room_id === R1)?.children_state.length, 2);
    assert.equal(rooms.find((r) => r.room_id === R2)?.name, 'Remote chat');
    assert.deepEqual(rooms.find((r) => r.room_id === R2)?.children_state, []);
    assert.deepEqual(
      hierarchyCalls(kit).map((c) => decodeURIComponent(c.path.split('/').pop()!.split('?')[0])).sort(),
      [R4, R1].sort(),
      'the child listed in the subspace answer is not asked again',
    );

    // Answers are cached for a while: a second walk asks nobody.
    const again = await kit.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(space)}/hierarchy?max_depth=1`, alice.token);
    assert.deepEqual(new Set(again.json.rooms.map((r: { room_id: string }) => r.room_id)), new Set([space, local, R1]));
    assert.equal(hierarchyCalls(kit).length, 2);
  } finally {
    await kit.close();
  }
});

test('it should ask the room’s server about a root room this server does not know, and refuse when none answers', async () => {
  const kit = await setup();
  try {
    const alice = kit.local('alice');
    const res = await kit.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(R1)}/hierarchy`, alice.token);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(
      res.json.rooms.map((r: { room_id: string }) => r.room_id),
      [R1, R2],
    );
    const unknown = await kit.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent('!nope:remote.test')}/hierarchy`, alice.token);
    assert.equal(unknown.status, 403);
    assert.equal(unknown.json.errcode, 'M_FORBIDDEN');
    const hidden = await kit.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(R4)}/hierarchy`, alice.token);
    assert.equal(hidden.status, 403, 'an invite-only remote room is not previewed');
  } finally {
    await kit.close();
  }
});
