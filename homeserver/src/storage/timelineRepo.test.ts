// A room's timeline with backfilled history below it: per-room reads walk on from the
// local positions into the negative (backfilled) ones in order, both ways; global reads
// (incremental /sync) never see backfilled events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Batch } from './batch.js';
import { TimelineRepo } from './timelineRepo.js';

test('it should read backfilled history before a room’s first event and keep it out of the global order', async () => {
  const t = await openTestDatabase({ prefix: 'parley-timeline-' });
  try {
    const timeline = new TimelineRepo(t.db);
    const batch = new Batch();
    // Local events 101..103 at positions 5, 7, 9; backfilled 52, 51 at −1, −2 and later 50 at −3.
    timeline.append(batch, 1, 5, 101);
    timeline.append(batch, 1, 7, 102);
    timeline.append(batch, 1, 9, 103);
    timeline.append(batch, 2, 6, 900); // another room
    timeline.appendBackfill(batch, 1, -1, 52, '$e52');
    timeline.appendBackfill(batch, 1, -2, 51, '$e51');
    await batch.commit(t.db);
    assert.equal(await timeline.lowestBackfill(1), -2);
    assert.equal(await timeline.lowestBackfill(2), 0);
    const more = new Batch();
    timeline.appendBackfill(more, 1, -3, 50, '$e50');
    await more.commit(t.db);

    const all = -Number.MAX_SAFE_INTEGER;
    assert.deepEqual(await timeline.roomRange(1, { after: all, dir: 'b', limit: 10 }), [103, 102, 101, 52, 51, 50]);
    assert.deepEqual(await timeline.roomRange(1, { after: all, dir: 'f', limit: 10 }), [50, 51, 52, 101, 102, 103]);
    assert.deepEqual(await timeline.roomRange(1, { after: all, upTo: 6, dir: 'b', limit: 2 }), [101, 52], 'a page crosses into the history');
    assert.deepEqual(await timeline.roomRange(1, { after: all, upTo: -2, dir: 'b', limit: 5 }), [51, 50], 'a page starts inside it');
    assert.deepEqual(await timeline.roomRange(1, { after: -3, upTo: 7, dir: 'f', limit: 5 }), [51, 52, 101, 102]);
    assert.deepEqual(await timeline.roomRange(1, { dir: 'b', limit: 10 }), [103, 102, 101], 'windows from 0 (sync) stay local');
    assert.deepEqual(await timeline.lastAtOrBefore(1, -2), { stream: -2, shortEvent: 51 });
    assert.deepEqual(await timeline.lastAtOrBefore(1, 3), { stream: -1, shortEvent: 52 });
    assert.deepEqual((await timeline.globalRange(0, 100, 10)).map((r) => r.shortEvent), [101, 900, 102, 103]);
  } finally {
    await t.close();
  }
});
