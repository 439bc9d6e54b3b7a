// Receipts, account data and filters on a real database: durable across reopening,
// and the stream indexes keep one entry per key (its latest change).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AccountDataRepo } from './accountDataRepo.js';
import { Database } from './db.js';
import { FiltersRepo } from './filtersRepo.js';
import { ReceiptsRepo } from './receiptsRepo.js';

test('it should keep receipts, account data and filters across a reopen, indexed by their latest change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-syncrepos-'));
  try {
    let db = await Database.open(dir);
    const receipts = new ReceiptsRepo(db);
    const r1 = { roomId: '!r:x', type: 'm.read', thread: '', userId: '@a:x', eventId: '$1', eventStream: 5, ts: 1, stream: 10 };
    await receipts.put(r1, undefined);
    await receipts.put({ ...r1, eventId: '$2', eventStream: 6, stream: 12 }, await receipts.get('!r:x', 'm.read', '', '@a:x'));
    await receipts.put({ ...r1, userId: '@b:x', stream: 11 }, undefined);
    const data = new AccountDataRepo(db);
    await data.put('@a:x', { roomId: '', type: 'm.direct', content: { v: 1 }, stream: 13 }, undefined);
    await data.put('@a:x', { roomId: '', type: 'm.direct', content: { v: 2 }, stream: 15 }, await data.get('@a:x', '', 'm.direct'));
    await data.put('@a:x', { roomId: '!r:x', type: 'm.tag', content: { tags: {} }, stream: 14 }, undefined);
    await new FiltersRepo(db).put('@a:x', 'f1', { room: { timeline: { limit: 2 } } });
    await db.close();

    db = await Database.open(dir);
    const rr = new ReceiptsRepo(db);
    assert.deepEqual(
      (await rr.since('!r:x', 0, 100)).map((e) => [e.userId, e.eventId, e.stream]),
      [['@b:x', '$1', 11], ['@a:x', '$2', 12]],
      'one entry per receipt, in stream order',
    );
    assert.deepEqual((await rr.since('!r:x', 11, 100)).map((e) => e.userId), ['@a:x']);
    assert.equal((await rr.all('!r:x')).length, 2);
    const dr = new AccountDataRepo(db);
    assert.deepEqual((await dr.since('@a:x', 0, 100)).map((e) => [e.roomId, e.type, e.stream]), [['!r:x', 'm.tag', 14], ['', 'm.direct', 15]]);
    assert.deepEqual((await dr.all('@a:x')).map((e) => [e.roomId, e.content]).sort(), [['!r:x', { tags: {} }], ['', { v: 2 }]], 'global entries are found too');
    assert.deepEqual(await dr.all('@a:xy'), [], 'a longer user ID is another user');
    assert.deepEqual(await new FiltersRepo(db).get('@a:x', 'f1'), { room: { timeline: { limit: 2 } } });
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
