// Remote joins against fake resident servers that build and sign real events:
// make_join → our signed join → send_join v2 → the ingest side gets the room's state.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventIdOf } from '@parley/federation/core/eventId';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { signingKeyFromSeed } from '@parley/federation/signing/ed25519Key';
import { verifyEventSignature } from '@parley/federation/signing/signEvent';
import type { FederationRequest } from '@parley/federation/transport/federationClient';
import { MatrixError } from '../../http/errors.js';
import type { StoredEvent } from '../../rooms/types.js';
import { FakeFederation, FakeRemoteServer } from '../testing/fakeRemote.js';
import { FederationDirectory } from './remoteDirectory.js';
import { FederationRemoteJoiner, type JoinedRoomIngest } from './remoteJoiner.js';

const US = 'us.test';
const ourKey = signingKeyFromSeed('ed25519:us', Buffer.alloc(32, 3));

interface Ingested {
  version: string;
  join: Pdu;
  state: Pdu[];
  authChain: Pdu[];
  origin: string;
}

/** A resident that answers make_join and send_join for its room. */
function resident(fake: FakeRemoteServer, roomId: string, latest: string): void {
  const rules = fake.rules(roomId);
  fake.override((req, url) => {
    const path = decodeURIComponent(url.pathname);
    if (req.method === 'GET' && path.startsWith('/_matrix/federation/v1/make_join/')) {
      const userId = path.split('/').pop()!;
      const state = fake.stateAt(latest);
      const get = (t: string, k = '') => state.get(`${t}\u0000${k}`);
      const auth = [rules.createEventNotInAuthEvents ? undefined : get('m.room.create'), get('m.room.power_levels'), get('m.room.join_rules')];
      return {
        ok: true,
        status: 200,
        body: {
          room_version: rules.id,
          event: {
            room_id: roomId,
            type: 'm.room.member',
            sender: userId,
            state_key: userId,
            content: { membership: 'join' },
            origin: fake.serverName,
            origin_server_ts: 1,
            depth: fake.events.get(latest)!.pdu.depth + 1,
            prev_events: [latest],
            auth_events: auth.filter((x): x is string => x !== undefined),
          },
        },
      };
    }
    if (req.method === 'PUT' && path.startsWith('/_matrix/federation/v2/send_join/')) {
      const ids = [...fake.stateAt(latest).values()];
      return {
        ok: true,
        status: 200,
        body: {
          origin: fake.serverName,
          members_omitted: false,
          state: ids.map((id) => fake.events.get(id)!.pdu),
          auth_chain: fake.authChain(ids).map((id) => fake.events.get(id)!.pdu),
        },
      };
    }
    return undefined;
  });
}

function setup() {
  const net = new FakeFederation();
  const hr = net.add(new FakeRemoteServer('hr.test'));
  const { roomId, events } = hr.createRoom('12', 'alice');
  resident(hr, roomId, events[events.length - 1].eventId);
  const ingested: Ingested[] = [];
  const ingest: JoinedRoomIngest = {
    async ingestJoinedRoom(version, join, state, authChain, origin) {
      ingested.push({ version, join, state, authChain, origin });
      return { eventId: eventIdOf(join, roomVersion(version)!), roomId, pdu: join, stream: 1 } as StoredEvent;
    },
  };
  const requests: FederationRequest[] = [];
  const client = {
    request: <T>(req: FederationRequest) => {
      requests.push(req);
      return net.request<T>(req);
    },
  };
  const joiner = new FederationRemoteJoiner({ serverName: US, signingKey: ourKey, client, ingest, directory: new FederationDirectory(client) });
  return { net, hr, roomId, events, ingested, requests, joiner };
}

test('it should join through the next server when one is unreachable, sending a join signed by us built on the template', async () => {
  const { roomId, events, ingested, requests, joiner } = setup();
  const res = await joiner.joinRemote('@bob:us.test', roomId, ['down.test', 'hr.test'], { membership: 'join', displayname: 'Bob' });
  assert.deepEqual(res, { roomId });
  assert.equal(requests[0].destination, 'down.test');
  const makeJoin = requests.find((r) => r.destination === 'hr.test' && r.path.includes('/make_join/'))!;
  assert.match(makeJoin.path, /[?&]ver=12(&|$)/, 'our supported versions are offered');
  assert.equal(ingested.length, 1);
  const { join, state, authChain, origin, version } = ingested[0];
  const rules = roomVersion('12')!;
  assert.equal(version, '12');
  assert.equal(origin, 'hr.test');
  assert.equal(join.sender, '@bob:us.test');
  assert.deepEqual(join.content, { membership: 'join', displayname: 'Bob' });
  assert.deepEqual(join.prev_events, [events[events.length - 1].eventId]);
  assert.ok(verifyEventSignature(join, rules, US, ourKey.keyId, ourKey.publicKey), 'the join carries our valid signature');
  const sendJoin = requests.find((r) => r.path.includes('/v2/send_join/'))!;
  assert.ok(sendJoin.path.endsWith('/' + encodeURIComponent(eventIdOf(join, rules))), 'send_join names the event by its ID');
  assert.equal(state.length, 5);
  assert.ok(authChain.length >= 3);
});

test('it should pass a resident refusal on to the client and not try other servers', async () => {
  const { hr, roomId, requests, joiner, ingested } = setup();
  hr.override((req) =>
    req.path.includes('/make_join/') ? { ok: false, kind: 'http', status: 403, errcode: 'M_FORBIDDEN', error: 'You are not invited' } : undefined,
  );
  const err = await joiner.joinRemote('@bob:us.test', roomId, ['hr.test', 'other.test'], { membership: 'join' }).catch((e: unknown) => e);
  assert.ok(err instanceof MatrixError);
  assert.equal(err.status, 403);
  assert.equal(err.errcode, 'M_FORBIDDEN');
  assert.ok(!requests.some((r) => r.destination === 'other.test'));
  assert.equal(ingested.length, 0);
});

test('it should resolve a remote alias with query/directory and join through the servers it names', async () => {
  const { hr, roomId, joiner, ingested } = setup();
  hr.override((req, url) =>
    url.pathname === '/_matrix/federation/v1/query/directory' && url.searchParams.get('room_alias') === '#hr:hr.test'
      ? { ok: true, status: 200, body: { room_id: roomId, servers: ['hr.test'] } }
      : undefined,
  );
  assert.deepEqual(await joiner.joinRemote('@bob:us.test', '#hr:hr.test', [], { membership: 'join' }), { roomId });
  assert.equal(ingested.length, 1);
  const missing = await joiner.joinRemote('@bob:us.test', '#nope:hr.test', [], { membership: 'join' }).catch((e: unknown) => e);
  assert.ok(missing instanceof MatrixError);
  assert.equal(missing.status, 404);
  assert.equal(missing.errcode, 'M_NOT_FOUND', 'an alias its server does not know is not found');
});

test('it should answer 404 M_NOT_FOUND when no server to join through is known', async () => {
  const { roomId, joiner } = setup();
  const err = await joiner.joinRemote('@bob:us.test', roomId, [], { membership: 'join' }).catch((e: unknown) => e);
  assert.ok(err instanceof MatrixError);
  assert.equal(err.status, 404);
  assert.equal(err.errcode, 'M_NOT_FOUND');
});
