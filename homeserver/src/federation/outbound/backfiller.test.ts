// A room joined over federation: its first /sync carries the state the resident gave with the
// join; /messages dir=b past our join fetches the older history from a server of the room
// (backfill), checks each event like any PDU (a forged one is rejected and never shown), and
// serves it in order below the join; /sync never sees it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pdu } from '@parley/federation/core/types';
import { roomRoutes } from '../../api/client/rooms.js';
import { toClientEvent } from '../../events/clientEvent.js';
import { createSearchModule, type SearchModule } from '../../search/searchModule.js';
import { createMessagingModule } from '../../messaging/messagingModule.js';
import { openInboundKit, REMOTE, US, type InboundKit } from '../testing/inboundKit.js';
import { FederationBackfiller, storedGaps } from './backfiller.js';

async function withKit(fn: (k: InboundKit) => Promise<void>): Promise<void> {
  const k = await openInboundKit();
  try {
    await fn(k);
  } finally {
    await k.close();
  }
}

/** Builds a text message in the remote room, from `sender` unless another is named. */
function messagesFrom(k: InboundKit, roomId: string, sender: string) {
  return (body: string, from = sender) => k.remote.build(roomId, { type: 'm.room.message', sender: from, content: { msgtype: 'm.text', body } });
}

/** `user` joins the remote room now (send_join as resident REMOTE answers it); /messages backfills from REMOTE. */
async function joinAndBackfill(k: InboundKit, roomId: string, user: { userId: string }, opts: { gaps?: boolean; search?: SearchModule } = {}) {
  const beforeJoin = k.remote.latestEvent(roomId).eventId;
  const join = k.remote.build(roomId, {
    type: 'm.room.member',
    sender: user.userId,
    stateKey: user.userId,
    content: { membership: 'join' },
    alsoSignedBy: [{ serverName: US, key: k.ourKey }],
  });
  const stateIds = [...k.remote.stateAt(beforeJoin).values()];
  const pdus = (ids: string[]): Pdu[] => ids.map((id) => k.remote.events.get(id)!.pdu);
  await k.ingest.ingestJoinedRoom('12', join.pdu, pdus(stateIds), pdus(k.remote.authChain(stateIds)), REMOTE);
  const search = opts.search;
  k.sync.pagination.setBackfill(
    new FederationBackfiller({
      reader: k.rooms.reader,
      client: k.net,
      ingest: k.ingest,
      servers: async () => [REMOTE],
      ...(opts.gaps ? { gaps: storedGaps(k.rooms.storage) } : {}),
      ...(search ? { onHistoryPlaced: () => void search.indexer.indexHistory() } : {}),
    }),
  );
  return { beforeJoin, join };
}

/** A kit serving /search too; the indexer is not started. */
async function openKitWithSearch(): Promise<{ kit: InboundKit; search: SearchModule }> {
  let search: SearchModule | undefined;
  const kit = await openInboundKit({
    clientRoutes: (k) => {
      search = createSearchModule({
        db: k.db,
        reader: k.rooms.reader,
        outputs: k.outputs,
        stream: k.stream,
        roomShort: (roomId) => k.rooms.storage.ids.room(roomId),
        visible: (userId, roomId, events) => k.rooms.visibility.filter(userId, roomId, events),
        format: toClientEvent,
      });
      return search.routes;
    },
  });
  return { kit, search: search! };
}

/** The message bodies of the room as `token`'s user pages back through /messages (at most 100 pages). */
async function messageBodies(k: InboundKit, token: string, roomId: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  let from: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=${limit}${from ? `&from=${from}` : ''}`, token);
    assert.equal(page.status, 200, JSON.stringify(page.json));
    out.push(...(page.json.chunk as Array<{ type: string; content: { body?: string } }>).filter((e) => e.type === 'm.room.message').map((e) => e.content.body!));
    from = page.json.end;
    if (from === undefined) break;
  }
  return out;
}

test('it should fetch the history before our join from a server of the room, in order, without what fails the auth rules', async () => {
  await withKit(async (k) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    const say = messagesFrom(k, roomId, owner);
    for (let i = 0; i < 3; i++) say(`old ${i}`);
    const forged = say('not a member', k.remote.user('mallory'));
    for (let i = 3; i < 6; i++) say(`old ${i}`);
    const { beforeJoin, join } = await joinAndBackfill(k, roomId, bea);

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

test('it should index fetched history for relations and timestamps: edits, reactions and threads of old messages aggregate', async () => {
  const k = await openInboundKit({ clientRoutes: (kit) => [...createMessagingModule({ db: kit.db, rooms: kit.rooms, serverName: US }).routes, ...roomRoutes(kit.rooms)] });
  try {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    const send = (content: Record<string, unknown>, type = 'm.room.message') => k.remote.build(roomId, { type, sender: owner, content: content as never });
    const original = send({ msgtype: 'm.text', body: 'first draft' });
    const edit = send({ msgtype: 'm.text', body: '* final', 'm.new_content': { msgtype: 'm.text', body: 'final' }, 'm.relates_to': { rel_type: 'm.replace', event_id: original.eventId } });
    const reaction = send({ 'm.relates_to': { rel_type: 'm.annotation', event_id: original.eventId, key: '👍' } }, 'm.reaction');
    const reply = send({ msgtype: 'm.text', body: 'in a thread', 'm.relates_to': { rel_type: 'm.thread', event_id: original.eventId } });
    await joinAndBackfill(k, roomId, bea);
    const room = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}`;
    const page = await k.clientCall('GET', `${room}/messages?dir=b&limit=50`, bea.token);
    assert.equal(page.status, 200, JSON.stringify(page.json));
    assert.ok((page.json.chunk as Array<{ event_id: string }>).some((e) => e.event_id === original.eventId), 'the history was fetched');

    // /relations lists the old message's children, also page by page (tokens into fetched history).
    const all = await k.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/relations/${encodeURIComponent(original.eventId)}`, bea.token);
    assert.equal(all.status, 200, JSON.stringify(all.json));
    const newestFirst = [reply.eventId, reaction.eventId, edit.eventId];
    assert.deepEqual((all.json.chunk as Array<{ event_id: string }>).map((e) => e.event_id), newestFirst);
    const walked: string[] = [];
    let from: string | undefined;
    for (let i = 0; i < 5; i++) {
      const res = await k.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/relations/${encodeURIComponent(original.eventId)}?limit=1${from ? `&from=${from}` : ''}`, bea.token);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      walked.push(...(res.json.chunk as Array<{ event_id: string }>).map((e) => e.event_id));
      from = res.json.next_batch;
      if (from === undefined) break;
    }
    assert.deepEqual(walked, newestFirst);

    // Bundled aggregations of the old message: its edit and its thread.
    const ev = await k.clientCall('GET', `${room}/event/${encodeURIComponent(original.eventId)}`, bea.token);
    assert.equal(ev.status, 200, JSON.stringify(ev.json));
    const bundled = ev.json.unsigned?.['m.relations'] ?? {};
    assert.equal(bundled['m.replace']?.event_id, edit.eventId);
    assert.equal(bundled['m.thread']?.count, 1);

    // /timestamp_to_event finds fetched history too.
    const ts = k.remote.events.get(original.eventId)!.pdu.origin_server_ts;
    const at = await k.clientCall('GET', `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/timestamp_to_event?ts=${ts}&dir=f`, bea.token);
    assert.equal(at.status, 200, JSON.stringify(at.json));
    assert.equal(at.json.event_id, original.eventId);
  } finally {
    await k.close();
  }
});

test('it should fill a hole in the middle of the history when /messages walks across it, in order, searchable (as is the history below the join), without notifying anyone', async () => {
  const { kit, search } = await openKitWithSearch();
  await search.start();
  await (async (k: InboundKit) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    const say = messagesFrom(k, roomId, owner);
    say('before join');
    await joinAndBackfill(k, roomId, bea, { gaps: true, search });
    const first = await k.clientCall('GET', '/_matrix/client/v3/sync?timeout=0', bea.token);

    // 15 messages never reach us; the 16th does. get_missing_events brings the newest 10,
    // the oldest of which is placed over a hole of 5.
    const missed = Array.from({ length: 15 }, (_, i) => say(`missed ${i}`));
    const latest = say('after the partition');
    const heard: string[] = [];
    k.outputs.subscribe((o) => {
      if (o.kind === 'new_event') heard.push(o.event.eventId);
    });
    const res = await k.ingest.ingestPdus(REMOTE, [latest.pdu]);
    assert.deepEqual(res.get(latest.eventId), {});
    assert.notEqual((await k.rooms.reader.getEvent(missed[4].eventId))?.outlier ?? true, false, 'the hole: not placed by get_missing_events');
    const heardBefore = heard.length;

    const bodies = (limit: number) => messageBodies(k, bea.token, roomId, limit);
    const expected = ['after the partition', ...missed.map((_, i) => `missed ${14 - i}`), 'before join'];
    assert.deepEqual(await bodies(4), expected, 'the whole history, newest first, the hole filled in place');
    const asked = k.remote.calls.filter((c) => c.path.startsWith('/_matrix/federation/v1/backfill/'));
    assert.ok(asked.some((c) => c.path.includes(`v=${encodeURIComponent(missed[4].eventId)}`)), 'asked from the hole’s missing event');
    // Served from storage the next time, with nothing more fetched.
    const calls = k.remote.calls.length;
    assert.deepEqual(await bodies(50), expected);
    assert.equal(k.remote.calls.filter((c) => c.path.startsWith('/_matrix/federation/v1/backfill/')).length, asked.length, 'the hole is closed');
    assert.ok(k.remote.calls.length >= calls);

    // Fetched history notifies nobody and never reaches incremental sync.
    assert.equal(heard.length, heardBefore);
    const next = await k.clientCall('GET', `/_matrix/client/v3/sync?timeout=0&since=${first.json.next_batch}`, bea.token);
    const synced = ((next.json.rooms?.join?.[roomId]?.timeline?.events ?? []) as Array<{ event_id: string }>).map((e) => e.event_id);
    for (const m of missed.slice(0, 5)) assert.ok(!synced.includes(m.eventId), 'history from the hole is not news');

    // The history from the hole is searchable like the rest.
    await search.indexer.idle();
    const found = await k.clientCall('POST', '/_matrix/client/v3/search', bea.token, { search_categories: { room_events: { search_term: 'missed' } } });
    assert.equal(found.status, 200, JSON.stringify(found.json));
    assert.equal(found.json.search_categories.room_events.count, missed.length, 'all 15, the 5 from the hole included');
    // So is the history fetched from below our join.
    const older = await k.clientCall('POST', '/_matrix/client/v3/search', bea.token, { search_categories: { room_events: { search_term: 'join' } } });
    assert.deepEqual(
      (older.json.search_categories.room_events.results as Array<{ result: { content: { body: string } } }>).map((r) => r.result.content.body),
      ['before join'],
    );
  })(kit).finally(() => kit.close());
});

test('it should place a hole longer than 100 events whole, in order, as /messages walks across it', async () => {
  await withKit(async (k) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    const say = messagesFrom(k, roomId, owner);
    say('before join');
    await joinAndBackfill(k, roomId, bea, { gaps: true });
    // A long partition: 300 messages never reach us, then one does.
    const missed = Array.from({ length: 300 }, (_, i) => say(`missed ${i}`));
    const latest = say('after the partition');
    assert.deepEqual((await k.ingest.ingestPdus(REMOTE, [latest.pdu])).get(latest.eventId), {});
    const expected = ['after the partition', ...missed.map((_, i) => `missed ${missed.length - 1 - i}`), 'before join'];
    assert.deepEqual(await messageBodies(k, bea.token, roomId, 50), expected);
  });
});

test('it should index, when the search indexer next starts, fetched history it was never told of (as after a crash between placing and indexing)', async () => {
  const { kit, search } = await openKitWithSearch();
  await (async (k: InboundKit) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    for (let i = 0; i < 3; i++) k.remote.build(roomId, { type: 'm.room.message', sender: owner, content: { msgtype: 'm.text', body: `agenda ${i}` } });
    await joinAndBackfill(k, roomId, bea); // nobody tells the index of the history placed
    const page = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`, bea.token);
    assert.equal(page.json.chunk.filter((e: { type: string }) => e.type === 'm.room.message').length, 3, 'the history was fetched');
    await search.start();
    await search.indexer.idle();
    const found = await k.clientCall('POST', '/_matrix/client/v3/search', bea.token, { search_categories: { room_events: { search_term: 'agenda' } } });
    assert.equal(found.status, 200, JSON.stringify(found.json));
    assert.equal(found.json.search_categories.room_events.count, 3);
  })(kit).finally(() => kit.close());
});

test('it should keep every event after its ancestors when part of a hole arrived on its own before it was filled', async () => {
  await withKit(async (k) => {
    const bea = k.local('bea');
    const { roomId } = k.remote.createRoom('12', 'owner');
    const owner = k.remote.user('owner');
    const say = messagesFrom(k, roomId, owner);
    await joinAndBackfill(k, roomId, bea, { gaps: true });
    const missed = Array.from({ length: 15 }, (_, i) => say(`missed ${i}`));
    const latest = say('after the partition');
    await k.ingest.ingestPdus(REMOTE, [latest.pdu]); // a hole below "missed 5": 0–4 missing
    // "missed 3" arrives on its own (with 0–2 by get_missing_events): placed above the hole.
    assert.deepEqual((await k.ingest.ingestPdus(REMOTE, [missed[3].pdu])).get(missed[3].eventId), {});

    const page = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`, bea.token);
    assert.equal(page.status, 200, JSON.stringify(page.json));
    const order = (page.json.chunk as Array<{ event_id: string }>).map((e) => e.event_id).reverse();
    const at = (i: number) => order.indexOf(missed[i].eventId);
    for (const i of [0, 1, 2, 3]) assert.ok(at(i) >= 0, `missed ${i} is shown`);
    assert.equal(at(4), -1, '"missed 4" cannot go below its own ancestor: left for its sender to deliver');
    for (const i of [1, 2, 3]) assert.ok(at(i - 1) < at(i), `missed ${i - 1} before missed ${i}`);

    // Delivered later, it comes after its ancestors.
    assert.deepEqual((await k.ingest.ingestPdus(REMOTE, [missed[4].pdu])).get(missed[4].eventId), {});
    const again = await k.clientCall('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`, bea.token);
    const order2 = (again.json.chunk as Array<{ event_id: string }>).map((e) => e.event_id).reverse();
    assert.ok(order2.indexOf(missed[3].eventId) < order2.indexOf(missed[4].eventId));
  });
});
