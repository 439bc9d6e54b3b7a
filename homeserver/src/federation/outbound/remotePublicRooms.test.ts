// publicRooms?server=<remote>: our client's directory request goes to that server's
// federation publicRooms (GET for paging, POST with filters, GET plus local filtering
// for a server without POST), through createApp.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { directoryRoutes } from '../../api/client/directories.js';
import { PublicRoomsDirectory } from '../../directory/publicRooms.js';
import type { Route } from '../../http/route.js';
import { openInboundKit, REMOTE, US, type InboundKit } from '../testing/inboundKit.js';
import { FederationPublicRooms } from './remotePublicRooms.js';

const ROOMS = [
  { room_id: '!a:remote.test', name: 'Gardening club', num_joined_members: 9, world_readable: true, guest_can_join: false, join_rule: 'public' },
  { room_id: '!b:remote.test', name: 'Chess', topic: 'Openings', num_joined_members: 3, world_readable: false, guest_can_join: false, join_rule: 'public' },
  { room_id: '!c:remote.test', num_joined_members: 'many' },
];

async function setup(): Promise<InboundKit> {
  return openInboundKit({
    clientRoutes: (k) =>
      directoryRoutes({
        publicRooms: new PublicRoomsDirectory({ published: k.rooms.storage.published, reader: k.rooms.reader, serverName: US, remote: new FederationPublicRooms(k.net) }),
        users: { search: () => ({ results: [], limited: false }) },
      }) as Route<unknown, unknown>[],
  });
}

test('it should list a remote server’s directory through its federation publicRooms, passing limit and since', async () => {
  const kit = await setup();
  try {
    kit.remote.override((req, url) =>
      req.method === 'GET' && url.pathname === '/_matrix/federation/v1/publicRooms'
        ? { ok: true, status: 200, body: { chunk: ROOMS, next_batch: 'p2', total_room_count_estimate: 3 } }
        : undefined,
    );
    const bob = kit.local('bob');
    const res = await kit.clientCall('GET', `/_matrix/client/v3/publicRooms?server=${REMOTE}&limit=2&since=p1`, bob.token);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(
      res.json.chunk.map((c: { room_id: string }) => c.room_id),
      ['!a:remote.test', '!b:remote.test'],
      'malformed entries are left out',
    );
    assert.equal(res.json.next_batch, 'p2');
    const call = kit.remote.calls.find((c) => c.path.startsWith('/_matrix/federation/v1/publicRooms'))!;
    const url = new URL(call.path, 'https://x.invalid');
    assert.equal(url.searchParams.get('limit'), '2');
    assert.equal(url.searchParams.get('since'), 'p1');
  } finally {
    await kit.close();
  }
});

test('it should send a filtered search to the remote with POST', async () => {
  const kit = await setup();
  try {
    kit.remote.override((req, url) => {
      if (url.pathname !== '/_matrix/federation/v1/publicRooms') return undefined;
      if (req.method !== 'POST') return { ok: false, kind: 'http', status: 500, errcode: 'M_UNKNOWN', error: 'expected POST' };
      const term = (req.body as { filter?: { generic_search_term?: string } }).filter?.generic_search_term;
      return { ok: true, status: 200, body: { chunk: ROOMS.filter((r) => r.name?.toLowerCase().includes(term ?? '')) } };
    });
    const bob = kit.local('bob');
    const res = await kit.clientCall('POST', `/_matrix/client/v3/publicRooms?server=${REMOTE}`, bob.token, { limit: 10, filter: { generic_search_term: 'chess' } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.chunk.map((c: { room_id: string }) => c.room_id), ['!b:remote.test']);
    assert.deepEqual(kit.remote.calls.at(-1)!.body, { limit: 10, filter: { generic_search_term: 'chess' } });
  } finally {
    await kit.close();
  }
});

test('it should fall back to GET and filter the page itself when the remote has no POST publicRooms', async () => {
  const kit = await setup();
  try {
    kit.remote.override((req, url) => {
      if (url.pathname !== '/_matrix/federation/v1/publicRooms') return undefined;
      if (req.method === 'POST') return { ok: false, kind: 'http', status: 404, errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' };
      return { ok: true, status: 200, body: { chunk: ROOMS } };
    });
    const bob = kit.local('bob');
    const res = await kit.clientCall('POST', `/_matrix/client/v3/publicRooms?server=${REMOTE}`, bob.token, { filter: { generic_search_term: 'OPENINGS' } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json.chunk.map((c: { room_id: string }) => c.room_id), ['!b:remote.test'], 'the topic matched, case-insensitively');
  } finally {
    await kit.close();
  }
});

test('it should answer 502 when the remote server cannot be reached', async () => {
  const kit = await setup();
  try {
    const bob = kit.local('bob');
    const res = await kit.clientCall('GET', '/_matrix/client/v3/publicRooms?server=unreachable.test', bob.token);
    assert.equal(res.status, 502);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
  } finally {
    await kit.close();
  }
});
