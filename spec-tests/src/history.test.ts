// Long history: 1,000 messages paged back and forth through /messages, plus /context and /event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import {
  createRoom,
  enc,
  expectError,
  expectOk,
  joinRoom,
  paginateAll,
  rawRequest,
  registerUser,
  sendText,
  sync,
  type Json,
  type User,
} from './harness/http.js';

const TOTAL = 1000;
const LANES = 4;

describe('room history', () => {
  const ctx = useServer();
  let alice: User;
  let bob: User;
  let roomId = '';
  /** event IDs as acknowledged, per lane, in the order each lane sent them. */
  const lanes: string[][] = [];
  const bodyOf = new Map<string, string>();
  /** Messages in server order (oldest first), from the backward pagination test. */
  let serverOrder: string[] = [];

  it(`should accept ${TOTAL} messages from ${LANES} concurrent senders`, async () => {
    alice = await registerUser(ctx.server);
    bob = await registerUser(ctx.server);
    roomId = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'long history' });
    await joinRoom(ctx.server, bob, roomId);
    const perLane = TOTAL / LANES;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        const ids: string[] = [];
        lanes[lane] = ids;
        for (let i = 0; i < perLane; i++) {
          const text = `lane ${lane} #${i}`;
          const id = await sendText(ctx.server, lane % 2 === 0 ? alice : bob, roomId, text);
          ids.push(id);
          bodyOf.set(id, text);
        }
      }),
    );
    assert.equal(bodyOf.size, TOTAL, 'every send must return a distinct event_id');
    process.stderr.write(`# history: sent ${TOTAL} messages in ${Date.now() - t0} ms\n`);
  });

  it(`should page back through all ${TOTAL} messages with /messages dir=b limit=100 in exact reverse order, none repeated`, async () => {
    assert.equal(bodyOf.size, TOTAL, 'needs the messages from the previous test');
    const { next_batch } = await sync(ctx.server, bob, { timeout: 0, filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) });
    const { events, pages } = await paginateAll(ctx.server, bob, roomId, 'b', { from: next_batch, limit: 100 });
    const ids = events.map((e) => e.event_id as string);
    assert.equal(new Set(ids).size, ids.length, 'no event may be returned twice while paginating');
    const msgs = events.filter((e) => e.type === 'm.room.message');
    assert.equal(msgs.length, TOTAL, `expected ${TOTAL} messages, paginated ${msgs.length} (in ${pages} pages)`);
    assert.ok(pages >= TOTAL / 100, `limit=100 cannot deliver ${TOTAL} messages in ${pages} pages`);
    // Oldest event of all is m.room.create: we reached the start.
    assert.equal(events[events.length - 1].type, 'm.room.create', 'backward pagination must end at m.room.create');
    for (const m of msgs) assert.equal(m.content.body, bodyOf.get(m.event_id), `event ${m.event_id} has the wrong body`);

    serverOrder = msgs.map((e) => e.event_id as string).reverse();
    // Each lane sent sequentially, so within a lane the server order must match the send order.
    for (const [lane, laneIds] of lanes.entries()) {
      const positions = laneIds.map((id) => serverOrder.indexOf(id));
      for (let i = 1; i < positions.length; i++) {
        assert.ok(positions[i]! > positions[i - 1]!, `lane ${lane}: message #${i} appears before #${i - 1} in history`);
      }
    }
    // Timestamps never go backwards along the timeline.
    const ts = msgs.map((e) => e.origin_server_ts as number).reverse();
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! >= ts[i - 1]!, 'origin_server_ts must not decrease along the timeline');
  });

  it('should page forward from the start with dir=f and get the same order as backward, reversed', async () => {
    assert.equal(serverOrder.length, TOTAL, 'needs the backward pagination from the previous test');
    const { events } = await paginateAll(ctx.server, bob, roomId, 'f', { limit: 100 });
    assert.equal(events[0]?.type, 'm.room.create', 'forward pagination without from starts at the beginning of the room');
    const ids = events.map((e) => e.event_id as string);
    assert.equal(new Set(ids).size, ids.length, 'no event may be returned twice while paginating forward');
    const forward = events.filter((e) => e.type === 'm.room.message').map((e) => e.event_id as string);
    assert.deepEqual(forward, serverOrder, 'dir=f must return exactly the reverse of dir=b');
  });

  it('should return /context around an event with the neighbouring events and state', async () => {
    assert.equal(serverOrder.length, TOTAL, 'needs the server order from the pagination tests');
    const mid = 500;
    const target = serverOrder[mid]!;
    const res = await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/context/${enc(target)}?limit=10`, { token: bob.accessToken });
    const c = expectOk(res, 'GET /context');
    assert.equal(c.event.event_id, target);
    assert.equal(c.event.content.body, bodyOf.get(target));
    assert.ok(Array.isArray(c.events_before) && Array.isArray(c.events_after));
    assert.ok(c.events_before.length + c.events_after.length <= 10, 'limit applies to the sum of events_before and events_after');
    assert.ok(c.events_before.length >= 1 && c.events_after.length >= 1, 'with history on both sides, context includes some of each');
    // events_before is reverse-chronological, events_after chronological.
    c.events_before.forEach((e: Json, i: number) => assert.equal(e.event_id, serverOrder[mid - 1 - i], `events_before[${i}]`));
    c.events_after.forEach((e: Json, i: number) => assert.equal(e.event_id, serverOrder[mid + 1 + i], `events_after[${i}]`));
    assert.equal(typeof c.start, 'string');
    assert.equal(typeof c.end, 'string');
    assert.ok(Array.isArray(c.state) && c.state.some((e: Json) => e.type === 'm.room.create'), 'context state includes the room state');
    // The tokens continue the context seamlessly.
    const more = expectOk(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=f&limit=3&from=${enc(c.end)}`, { token: bob.accessToken }),
      '/messages from context end',
    );
    const afterIdx = mid + c.events_after.length + 1;
    assert.deepEqual(more.chunk.map((e: Json) => e.event_id), serverOrder.slice(afterIdx, afterIdx + 3), 'paginating forward from context.end continues after events_after');
    expectError(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/context/${enc('$doesnotexist')}`, { token: bob.accessToken }),
      404, 'M_NOT_FOUND', 'context of unknown event',
    );
  });

  it('should fetch single events with /event/{eventId}, and refuse outsiders', async () => {
    assert.equal(serverOrder.length, TOTAL, 'needs the server order from the pagination tests');
    for (const id of [serverOrder[0]!, serverOrder[TOTAL - 1]!, serverOrder[123]!]) {
      const e = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(id)}`, { token: alice.accessToken }), `GET /event/${id}`);
      assert.equal(e.event_id, id);
      assert.equal(e.type, 'm.room.message');
      assert.equal(e.room_id, roomId);
      assert.equal(e.content.body, bodyOf.get(id));
    }
    expectError(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc('$nonexistent_event')}`, { token: alice.accessToken }),
      404, 'M_NOT_FOUND', 'unknown event',
    );
    const outsider = await registerUser(ctx.server);
    const r = await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(serverOrder[0]!)}`, { token: outsider.accessToken });
    // The room's history_visibility is "shared": a non-member may not read it.
    expectError(r, 404, 'M_NOT_FOUND', 'outsider fetches an event');
  });

  it('should keep sending usable after a long history (sync and /messages reflect a new message immediately)', async () => {
    const s0 = await sync(ctx.server, alice, { timeout: 0, filter: JSON.stringify({ room: { timeline: { limit: 1 } } }) });
    const id = await sendText(ctx.server, bob, roomId, 'the 1001st');
    const s1 = await sync(ctx.server, alice, { since: s0.next_batch, timeout: 5000 });
    assert.deepEqual(s1.rooms?.join?.[roomId]?.timeline?.events.map((e: Json) => e.event_id), [id]);
    const last = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=1&from=${enc(s1.next_batch)}`, { token: alice.accessToken }), '/messages newest');
    assert.equal(last.chunk[0]?.event_id, id);
  });
});
