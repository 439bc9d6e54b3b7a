// The search index with history backfilled below the timeline: such positions are negative
// and per room, so two rooms may both have an event at -1. Each must be found, and a
// redaction must take out only its own event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { SearchRepo, type SearchDoc } from './searchRepo.js';

const doc = (roomId: string, stream: number, eventId: string, words: string[]): SearchDoc => ({
  roomId,
  stream,
  eventId,
  field: 'b',
  tokens: new Map(words.map((w) => [w, 1])),
  length: words.length,
});

test('it should find backfilled history of two rooms at the same negative position and redact one without the other', async () => {
  const t = await openTestDatabase({ prefix: 'parley-search-' });
  try {
    const shorts = new Map([
      ['!a:x', 1],
      ['!b:x', 2],
    ]);
    const repo = new SearchRepo(t.db, async (roomId) => shorts.get(roomId));
    await repo.add([doc('!a:x', -1, '$a1', ['budget']), doc('!b:x', -1, '$b1', ['budget'])]);
    await repo.write([doc('!a:x', 5, '$a5', ['budget', 'review'])], [], 5);

    const inA = await repo.postings('!a:x', 'budg');
    assert.deepEqual(inA.map((h) => [h.posting.e, h.stream]).sort(), [['$a1', -1], ['$a5', 5]], 'prefix match over old and new');
    assert.deepEqual((await repo.postings('!b:x', 'budget')).map((h) => h.posting.e), ['$b1']);

    await repo.remove([{ roomId: '!a:x', stream: -1 }]);
    assert.deepEqual((await repo.postings('!a:x', 'budget')).map((h) => h.posting.e), ['$a5'], 'the redacted one is gone');
    assert.deepEqual((await repo.postings('!b:x', 'budget')).map((h) => h.posting.e), ['$b1'], "the other room's event at -1 stays");
    assert.equal(await repo.indexedUpTo(), 5);
  } finally {
    await t.close();
  }
});
