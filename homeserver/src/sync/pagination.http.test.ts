// /messages and /context through the HTTP stack with the real room service.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withSyncServer, type Harness, type TestUser } from './testHarness.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const enc = encodeURIComponent;

async function page(h: Harness, u: TestUser, roomId: string, qs: Record<string, string | number>) {
  const q = new URLSearchParams(Object.entries(qs).map(([k, v]): [string, string] => [k, String(v)]));
  return h.call('GET', `${C}/rooms/${enc(roomId)}/messages?${q}`, { token: u.token });
}

/** Follow `end` until the server omits it. */
async function all(h: Harness, u: TestUser, roomId: string, dir: 'b' | 'f', limit: number, from?: string, filter?: unknown) {
  const events: Json[] = [];
  let pages = 0;
  for (;;) {
    const qs: Record<string, string | number> = { dir, limit };
    if (from !== undefined) qs.from = from;
    if (filter !== undefined) qs.filter = JSON.stringify(filter);
    const res = await page(h, u, roomId, qs);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.ok(res.json.chunk.length <= limit);
    assert.equal(typeof res.json.start, 'string');
    events.push(...res.json.chunk);
    pages++;
    assert.ok(pages < 500, 'pagination does not end');
    if (res.json.end === undefined) return events;
    from = res.json.end;
  }
}

async function roomWithHistory(h: Harness, n: number) {
  const [alice, bob] = [h.user('alice'), h.user('bob')];
  const roomId = await h.createRoom(alice, { preset: 'public_chat', name: 'History' });
  await h.rooms.membership.join(bob.userId, roomId);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await h.send(i % 3 === 0 ? bob : alice, roomId, `msg ${i}`, i % 5 === 0 ? { url: 'mxc://x/y' } : {}));
  return { alice, bob, roomId, ids };
}

describe('/messages', () => {
  it('it should page backwards and forwards through the whole room without gaps or repeats', async () => {
    await withSyncServer(async (h) => {
      const { bob, roomId, ids } = await roomWithHistory(h, 57);
      const back = await all(h, bob, roomId, 'b', 7);
      const backIds = back.map((e) => e.event_id);
      assert.equal(new Set(backIds).size, backIds.length, 'no repeats');
      assert.equal(back.at(-1).type, 'm.room.create', 'ends at the beginning');
      assert.deepEqual(back.filter((e) => e.type === 'm.room.message').map((e) => e.event_id), [...ids].reverse());
      const fwd = await all(h, bob, roomId, 'f', 9);
      assert.deepEqual(fwd.map((e) => e.event_id), [...backIds].reverse(), 'forwards is backwards reversed');
      assert.equal(fwd[0].room_id, roomId, '/messages events carry room_id');
    });
  });

  it('it should continue from a sync prev_batch and stop at `to`', async () => {
    await withSyncServer(async (h) => {
      const { bob, roomId, ids } = await roomWithHistory(h, 20);
      const s = await h.syncRaw(bob, { filter: JSON.stringify({ room: { timeline: { limit: 4 } } }) });
      const tl = s.json.rooms.join[roomId].timeline;
      assert.deepEqual(tl.events.map((e: Json) => e.event_id), ids.slice(-4));
      const res = await page(h, bob, roomId, { dir: 'b', limit: 3, from: tl.prev_batch });
      assert.deepEqual(res.json.chunk.map((e: Json) => e.event_id), [ids[15], ids[14], ids[13]]);
      assert.equal(res.json.start, tl.prev_batch);
      // A window between two tokens, forwards.
      const mid = await page(h, bob, roomId, { dir: 'f', limit: 100, from: res.json.end, to: tl.prev_batch });
      assert.deepEqual(mid.json.chunk.map((e: Json) => e.event_id), [ids[13], ids[14], ids[15]]);
      assert.equal(mid.json.end, undefined, 'nothing further before `to`');
    });
  });

  it('it should filter by type, sender and contains_url, and still page without gaps', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId, ids } = await roomWithHistory(h, 40);
      const onlyBob = await all(h, alice, roomId, 'b', 4, undefined, { types: ['m.room.message'], senders: [bob.userId] });
      assert.deepEqual(onlyBob.map((e) => e.event_id), ids.filter((_, i) => i % 3 === 0).reverse());
      const urls = await all(h, alice, roomId, 'f', 3, undefined, { contains_url: true });
      assert.deepEqual(urls.map((e) => e.event_id), ids.filter((_, i) => i % 5 === 0));
      const lazy = await page(h, alice, roomId, { dir: 'b', limit: 2, filter: JSON.stringify({ lazy_load_members: true }) });
      const senders = new Set(lazy.json.chunk.map((e: Json) => e.sender));
      assert.deepEqual(new Set(lazy.json.state.map((e: Json) => e.state_key)), senders, 'lazy-loaded members of the senders');
    });
  });

  it('it should refuse outsiders and forgotten rooms, and stop departed users at their leave', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId, ids } = await roomWithHistory(h, 5);
      const eve = h.user('eve');
      const outsider = await page(h, eve, roomId, { dir: 'b' });
      assert.equal(outsider.status, 403);
      assert.equal(outsider.json.errcode, 'M_FORBIDDEN');
      await h.rooms.membership.leave(bob.userId, roomId);
      const after = await h.send(alice, roomId, 'after bob left');
      const seen = (await all(h, bob, roomId, 'b', 50)).map((e) => e.event_id);
      assert.ok(!seen.includes(after), 'nothing after the leave');
      assert.ok(ids.every((id) => seen.includes(id)), 'everything before it');
      await h.rooms.membership.forget(bob.userId, roomId);
      assert.equal((await page(h, bob, roomId, { dir: 'b' })).status, 403);
    });
  });

  it('it should answer bad parameters with the spec error codes', async () => {
    await withSyncServer(async (h) => {
      const { alice, roomId } = await roomWithHistory(h, 1);
      const missing = await h.call('GET', `${C}/rooms/${enc(roomId)}/messages`, { token: alice.token });
      assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
      assert.equal((await page(h, alice, roomId, { dir: 'x' })).json.errcode, 'M_INVALID_PARAM');
      assert.equal((await page(h, alice, roomId, { dir: 'b', from: 'bogus' })).json.errcode, 'M_INVALID_PARAM');
      assert.equal((await page(h, alice, roomId, { dir: 'b', filter: '{"types": 5}' })).json.errcode, 'M_BAD_JSON');
    });
  });
});

describe('/context', () => {
  it('it should return the event with neighbours split by the limit, state, and tokens that continue', async () => {
    await withSyncServer(async (h) => {
      const { bob, roomId, ids } = await roomWithHistory(h, 30);
      const target = ids[15];
      const res = await h.call('GET', `${C}/rooms/${enc(roomId)}/context/${enc(target)}?limit=6`, { token: bob.token });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const c = res.json;
      assert.equal(c.event.event_id, target);
      assert.deepEqual(c.events_before.map((e: Json) => e.event_id), [ids[14], ids[13], ids[12]]);
      assert.deepEqual(c.events_after.map((e: Json) => e.event_id), [ids[16], ids[17], ids[18]]);
      assert.ok(c.state.some((e: Json) => e.type === 'm.room.create'));
      const fwd = await page(h, bob, roomId, { dir: 'f', limit: 2, from: c.end });
      assert.deepEqual(fwd.json.chunk.map((e: Json) => e.event_id), [ids[19], ids[20]]);
      const back = await page(h, bob, roomId, { dir: 'b', limit: 2, from: c.start });
      assert.deepEqual(back.json.chunk.map((e: Json) => e.event_id), [ids[11], ids[10]]);
      const unknown = await h.call('GET', `${C}/rooms/${enc(roomId)}/context/${enc('$nope')}`, { token: bob.token });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    });
  });
});
