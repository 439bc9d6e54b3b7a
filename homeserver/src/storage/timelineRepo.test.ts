// A room's timeline with backfilled history below it: per-room reads walk on from the
// local positions into the negative (backfilled) ones in order, both ways; global reads
// (incremental /sync) never see backfilled events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase, watchReads } from '../testing/storage.js';
import { Batch } from './batch.js';
import { key } from './keys.js';
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

test('it should answer reads of the newest global order from memory exactly as the database does', async () => {
  const t = await openTestDatabase({ prefix: 'parley-timeline-tail-' });
  try {
    // Capacity 6: the tail drops its oldest rows twice below, and its floor rises.
    const timeline = new TimelineRepo(t.db, 6);
    const commit = async (fill: (b: Batch) => void) => {
      const b = new Batch();
      fill(b);
      await b.commit(t.db);
    };
    // Rows of an earlier process, written without this repository.
    await commit((b) => new TimelineRepo(t.db).append(b, 1, 2, 200));
    await commit((b) => timeline.append(b, 1, 4, 400));
    // Position 3 was taken before 4 but commits after it; 6 commits before 5.
    await commit((b) => timeline.append(b, 2, 3, 300));
    await commit((b) => timeline.append(b, 2, 6, 600));
    await commit((b) => timeline.append(b, 1, 5, 500));
    for (let s = 7; s <= 12; s++) await commit((b) => timeline.append(b, s % 2, s, s * 100));
    await commit((b) => timeline.remove(b, 1, 9));
    // Room 2 purged (storage/roomPurge.ts).
    timeline.forgetRoom(2);
    await commit((b) => {
      for (const s of [3, 6]) b.add(t.db.del('stream_roomevent', key(s)));
    });

    const fromDisk = new TimelineRepo(t.db);
    const events = (rows: Array<{ shortEvent: number }>) => rows.map((r) => r.shortEvent);
    for (let after = 0; after <= 12; after++) {
      for (let upTo = after; upTo <= 13; upTo++) {
        for (const limit of [1, 2, 100]) {
          const disk = events(await fromDisk.globalRange(after, upTo, limit));
          assert.deepEqual(events(await timeline.globalRange(after, upTo, limit)), disk, `(${after}, ${upTo}] limit ${limit}`);
        }
      }
    }
    assert.deepEqual(events(await fromDisk.globalRange(0, 20, 100)), [200, 400, 500, 700, 800, 1000, 1100, 1200]);
    // The reads above the floor (the newest half after the last drop) never reached the database.
    const reads = watchReads(t.db);
    assert.deepEqual(events(await timeline.globalRange(10, 20, 100)), [1100, 1200]);
    assert.deepEqual(events(await timeline.globalRange(11, 11, 100)), []);
    reads.stop();
    assert.deepEqual(reads.spaces, []);
  } finally {
    await t.close();
  }
});
