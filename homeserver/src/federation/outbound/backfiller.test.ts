// A room joined over federation: its first /sync carries the state the resident gave with the
// join; /messages dir=b past our join fetches the older history from a server of the room
// (backfill), checks each event like any PDU (a forged one is rejected and never shown), and
// serves it in order below the join; /sync never sees it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pdu } from '@parley/federation/core/types';
import { openInboundKit, REMOTE, US, type InboundKit } from '../testing/inboundKit.js';
import { FederationBackfiller } from './backfiller.js';

async function withKit(fn: (k: InboundKit) => Promise<void>): Promise<void> {
  const k = await openInboundKit();
  try {
    await fn(k);
  } finally {
    await k.close();
  }
}

test('it should fetch the history before our join from a server of the room, in order, without what fails the auth rules', async () => {
  await withKit(async (k) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    const say = (body: string, sender = owner) => k.remote.build(roomId, { type: 'm.room.message', sender, content: { msgtype: 'm.text', body } });
    for (let i = 0; i < 3; i++) say(`old ${i}`);
    const forged = say('not a member', k.remote.user('mallory'));
    for (let i = 3; i < 6; i++) say(`old ${i}`);
    const beforeJoin = k.remote.latestEvent(roomId).eventId;
    const join = k.remote.build(roomId, {
      type: 'm.room.member',
      sender: bea.userId,
      stateKey: bea.userId,
      content: { membership: 'join' },
      alsoSignedBy: [{ serverName: US, key: k.ourKey }],
    });
    const stateIds = [...k.remote.stateAt(beforeJoin).values()];
    const pdus = (ids: string[]): Pdu[] => ids.map((id) => k.remote.events.get(id)!.pdu);
    await k.ingest.ingestJoinedRoom('12', join.pdu, pdus(stateIds), pdus(k.remote.authChain(stateIds)), REMOTE);
    k.sync.pagination.setBackfill(new FederationBackfiller({ reader: k.rooms.reader, client: k.net, ingest: k.ingest, servers: async () => [REMOTE] }));

    const first = await k.clientCall('GET', '/_matrix/client/v3/sync?timeout=0', bea.token);
    assert.equal(first.status, 200);
    // The room's state as the resident gave it with the join comes with the first sync (clients need e.g. m.room.encryption).
    const synced = (first.json.rooms?.join?.[roomId]?.state?.events ?? []) as Array<{ type: string }>;
    for (const type of ['m.room.create', 'm.room.power_levels', 'm.room.join_rules', 'm.room.history_visibility']) {
      assert.ok(synced.some((e) => e.type === type), `${type} in the first sync's state: ${JSON.stringify(synced.map((e) => e.type))}`);
    }
    const page = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`, bea.token);
    assert.equal(page.status, 200, JSON.stringify(page.json));
    const chunk = page.json.chunk as Array<{ type: string; event_id: string; content: { body?: string } }>;
    assert.equal(chunk[0].event_id, join.eventId, 'newest first: our join');
    assert.deepEqual(
      chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body),
      ['old 5', 'old 4', 'old 3', 'old 2', 'old 1', 'old 0'],
      'the earlier messages, newest first, without the forged one',
    );
    assert.equal(chunk.at(-1)?.type, 'm.room.create', 'back to the room’s beginning');
    assert.equal(page.json.end, undefined, 'nothing further');
    assert.ok((await k.rooms.reader.getEvent(forged.eventId))?.rejected, 'the forged event was rejected by the auth rules');
    const asked = k.remote.calls.filter((c) => c.path.startsWith('/_matrix/federation/v1/backfill/'));
    assert.equal(asked.length, 1);
    assert.ok(asked[0].path.includes(`v=${encodeURIComponent(beforeJoin)}`), 'asked from the join’s prev event');

    // Paging again is served from what was stored, with nothing more to fetch.
    const again = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=4`, bea.token);
    const ids: string[] = [];
    let res = again;
    for (;;) {
      ids.push(...(res.json.chunk as Array<{ event_id: string }>).map((e) => e.event_id));
      if (res.json.end === undefined) break;
      res = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=4&from=${res.json.end}`, bea.token);
      assert.equal(res.status, 200, JSON.stringify(res.json));
    }
    assert.deepEqual(ids, chunk.map((e) => e.event_id), 'small pages walk the same history');
    assert.equal(k.remote.calls.filter((c) => c.path.startsWith('/_matrix/federation/v1/backfill/')).length, 1);

    // Context around a fetched event works too.
    const old2 = chunk.find((e) => e.content.body === 'old 2')!;
    const ctx = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/context/${encodeURIComponent(old2.event_id)}?limit=2`, bea.token);
    assert.equal(ctx.status, 200, JSON.stringify(ctx.json));
    assert.equal(ctx.json.events_before[0]?.content.body, 'old 1');
    assert.equal(ctx.json.events_after[0]?.content.body, 'old 3');

    // The history never turns up in incremental sync.
    const next = await k.clientCall('GET', `/_matrix/client/v3/sync?timeout=0&since=${first.json.next_batch}`, bea.token);
    const replayed = (next.json.rooms?.join?.[roomId]?.timeline?.events ?? []) as unknown[];
    assert.deepEqual(replayed, []);
  });
});
