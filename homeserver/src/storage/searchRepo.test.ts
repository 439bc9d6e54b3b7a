// The search index with history backfilled below the timeline: such positions are negative
// and per room, so two rooms may both have an event at -1. Each must be found, and a
// redaction must take out only its own event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Batch } from './batch.js';
import { SearchRepo, type SearchDoc } from './searchRepo.js';
import { TimelineRepo } from './timelineRepo.js';

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
    await repo.addHistory([doc('!a:x', -1, '$a1', ['budget']), doc('!b:x', -1, '$b1', ['budget'])], []);
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

test('it should keep fetched history marked for indexing until its index entries are written, so a restart finds what a crash left', async () => {
  const t = await openTestDatabase({ prefix: 'parley-search-' });
  try {
    const repo = new SearchRepo(t.db, async () => 1);
    const placed = new Batch();
    new TimelineRepo(t.db).appendBackfill(placed, 1, -1, 40, '$old');
    new TimelineRepo(t.db).appendInGap(placed, 1, 7, 41, '$gap');
    await placed.commit(t.db);
    assert.deepEqual((await repo.historyToIndex(10)).sort(), ['$gap', '$old'], 'placed history is waiting to be indexed');
    await repo.addHistory([doc('!a:x', -1, '$old', ['minutes'])], ['$old']);
    assert.deepEqual(await repo.historyToIndex(10), ['$gap'], 'only what was indexed is cleared');
    assert.deepEqual((await repo.postings('!a:x', 'minutes')).map((h) => h.posting.e), ['$old']);
  } finally {
    await t.close();
  }
});
