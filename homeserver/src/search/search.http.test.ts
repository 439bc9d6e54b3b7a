import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import { RoomOutputs } from '../events/outputs.js';
import { openRooms } from '../rooms/roomsModule.js';
import { Database } from '../storage/db.js';
import { StreamCounter } from '../storage/streamCounter.js';
import { C, SERVER, withKit, type Kit, type KitUser } from '../directory/testKit.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function search(k: Kit, u: KitUser, criteria: Json, nextBatch?: string) {
  const q = nextBatch ? `?next_batch=${encodeURIComponent(nextBatch)}` : '';
  return k.call('POST', `${C}/search${q}`, { token: u.token, body: { search_categories: { room_events: criteria } } });
}

const bodies = (res: Json): string[] => res.json.search_categories.room_events.results.map((r: Json) => r.result.content.body);

describe('POST /search', () => {
  it('should find a message, and stop finding it after redaction without ever returning the redacted body', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const roomId = await k.createRoom(alice, { name: 'Plans' });
      const eventId = await k.send(alice, roomId, 'The secret password is swordfish');
      await k.send(alice, roomId, 'Unrelated chatter about fish');
      await k.settle();

      const found = await search(k, alice, { search_term: 'swordf' });
      assert.equal(found.status, 200);
      const re = found.json.search_categories.room_events;
      assert.equal(re.count, 1);
      assert.equal(re.results[0].result.event_id, eventId);
      assert.equal(re.results[0].result.room_id, roomId);
      assert.ok(re.results[0].rank > 0);
      assert.ok(re.highlights.includes('swordfish'), 'the matched word is highlighted');

      await k.rooms.events.redact(alice, roomId, eventId, 'r1', 'oops');
      await k.settle();
      for (const term of ['swordfish', 'secret password', 'password']) {
        const after = await search(k, alice, { search_term: term });
        assert.equal(after.status, 200);
        assert.deepEqual(after.json.search_categories.room_events.results, [], `"${term}" no longer finds it`);
        assert.equal(after.json.search_categories.room_events.count, 0, 'the postings are gone from the index');
        // (highlights echo the query terms; nothing else may carry the word)
        assert.ok(!JSON.stringify({ ...after.json.search_categories.room_events, highlights: [] }).includes('swordfish'));
      }
      const other = await search(k, alice, { search_term: 'fish' });
      assert.deepEqual(bodies(other), ['Unrelated chatter about fish']);
    });
  });

  it("should only search events the user may see (history visibility 'joined')", async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bob = k.user('bob');
      const carol = k.user('carol');
      const roomId = await k.createRoom(alice, {
        preset: 'public_chat',
        initial_state: [{ type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'joined' } }],
      });
      await k.send(alice, roomId, 'early bird gets the worm');
      await k.rooms.membership.join(bob.userId, roomId);
      await k.send(alice, roomId, 'late bird sings anyway');
      await k.settle();

      assert.deepEqual(bodies(await search(k, bob, { search_term: 'bird' })), ['late bird sings anyway'], 'Bob joined later');
      assert.equal((await search(k, alice, { search_term: 'bird', order_by: 'recent' })).json.search_categories.room_events.results.length, 2);
      assert.deepEqual(bodies(await search(k, carol, { search_term: 'bird' })), [], 'a non-member finds nothing');
    });
  });

  it('should order by recent and by rank, page with next_batch, group and give context', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const room1 = await k.createRoom(alice, { name: 'One' });
      const room2 = await k.createRoom(alice, { name: 'Two' });
      await k.send(alice, room1, 'apple 1 and a great many other words that dilute the match');
      await k.send(alice, room2, 'apple 2');
      await k.send(alice, room1, 'apple apple 3');
      await k.send(alice, room2, 'apple 4 in a longer sentence');
      await k.send(alice, room1, 'apple 5');
      await k.settle();

      const seen: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const res = await search(k, alice, { search_term: 'APPLE', order_by: 'recent', filter: { limit: 2 } }, next);
        assert.equal(res.status, 200);
        const re = res.json.search_categories.room_events;
        assert.equal(re.count, 5);
        seen.push(...bodies(res));
        next = re.next_batch;
        pages++;
      } while (next && pages < 10);
      assert.deepEqual(
        seen.map((b) => b.match(/\d/)![0]),
        ['5', '4', '3', '2', '1'],
        'newest first, every result exactly once',
      );
      assert.equal(pages, 3);

      const ranked = await search(k, alice, { search_term: 'apple' });
      assert.equal(bodies(ranked)[0], 'apple apple 3', 'two mentions in a short message rank first');
      assert.equal(bodies(ranked).at(-1), 'apple 1 and a great many other words that dilute the match');

      const grouped = await search(k, alice, {
        search_term: 'apple',
        order_by: 'recent',
        filter: { limit: 2 },
        groupings: { group_by: [{ key: 'room_id' }, { key: 'sender' }] },
        event_context: { before_limit: 1, after_limit: 1, include_profile: true },
        include_state: true,
      });
      const re = grouped.json.search_categories.room_events;
      assert.deepEqual(Object.keys(re.groups.room_id).sort(), [room1, room2].sort());
      assert.equal(re.groups.sender[alice.userId].results.length, 2);
      const roomGroupToken = re.groups.room_id[room1].next_batch;
      assert.ok(roomGroupToken, 'a group has its own next_batch');
      const inRoom1 = await search(k, alice, { search_term: 'apple', order_by: 'recent', filter: { limit: 5 } }, roomGroupToken);
      assert.deepEqual(bodies(inRoom1).map((b) => b.match(/\d/)![0]), ['3', '1'], "the group's next page stays in its room");
      const ctx = re.results[0].context;
      assert.equal(ctx.events_before.length, 1);
      assert.equal(typeof ctx.start, 'string');
      assert.equal(typeof ctx.end, 'string');
      assert.ok(alice.userId in ctx.profile_info);
      assert.ok(Array.isArray(re.state[room1]), 'include_state gives the current state');
      assert.ok(re.state[room1].some((e: Json) => e.type === 'm.room.create'));
    });
  });

  it('should search room names and topics, and only the keys asked for', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const roomId = await k.createRoom(alice, { name: 'Gardening club', topic: 'Tomatoes and gardening tips' });
      await k.send(alice, roomId, 'my gardening diary');
      await k.settle();
      const all = await search(k, alice, { search_term: 'gardening' });
      const types = all.json.search_categories.room_events.results.map((r: Json) => r.result.type).sort();
      assert.deepEqual(types, ['m.room.message', 'm.room.name', 'm.room.topic']);
      const onlyTopic = await search(k, alice, { search_term: 'gardening', keys: ['content.topic'] });
      assert.deepEqual(onlyTopic.json.search_categories.room_events.results.map((r: Json) => r.result.type), ['m.room.topic']);
    });
  });

  it('should refuse a filter with an unknown key, and a malformed next_batch', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bad = await search(k, alice, { search_term: 'x', filter: { not_a_filter_key: true } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_BAD_JSON');
      assert.match(bad.json.error, /not_a_filter_key/);
      const badKey = await search(k, alice, { search_term: 'x', keys: ['content.secret'] });
      assert.equal(badKey.status, 400);
      const badToken = await search(k, alice, { search_term: 'x' }, 'garbage!');
      assert.equal(badToken.status, 400);
      assert.equal(badToken.json.errcode, 'M_INVALID_PARAM');
    });
  });

  it('should index events written while the index was not running (catch-up from the durable cursor)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-search-'));
    try {
      // A run that stored events but never indexed them (as if it crashed right after).
      const db = await Database.open(dir);
      const stream = await StreamCounter.open(db);
      const rooms = await openRooms({ db, counter: stream, outputs: new RoomOutputs(), serverName: SERVER, signingKey: generateSigningKey(), profiles: { profile: async () => ({}) } });
      const alice = { userId: `@alice:${SERVER}`, deviceId: 'DEV', isAdmin: false };
      const roomId = (await rooms.creator.createRoom(alice, {})).room_id;
      await rooms.events.send(alice, roomId, 'm.room.message', 'a', { msgtype: 'm.text', body: 'written before the indexer ran' });
      await rooms.drain();
      await db.close();

      await withKit(
        async (k) => {
          const u = k.user('alice');
          await k.settle();
          assert.deepEqual(bodies(await search(k, u, { search_term: 'indexer' })), ['written before the indexer ran']);
        },
        { dir },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
