// Writes grouped into few durable batches, on a real database: everything written is
// readable once its promise resolves, a burst costs a handful of writes rather than one
// each, and a failed batch fails only the writes it carried.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Database, strKey, type BatchOp } from './db.js';
import { GroupWriter } from './groupWriter.js';

async function withDb(fn: (db: Database) => Promise<void>): Promise<void> {
  const t = await openTestDatabase({ prefix: 'parley-groupwriter-' });
  try {
    await fn(t.db);
  } finally {
    await t.close();
  }
}

test('it should make a burst of writes durable in a few batches, each readable once its promise resolves', () =>
  withDb(async (db) => {
    let writes = 0;
    const writer = new GroupWriter((ops) => {
      writes++;
      return db.write(ops);
    });
    const put = (i: number) => writer.put([db.put('userid_pushrules', strKey(`@u${i}:x`), { n: i })]);
    await Promise.all(Array.from({ length: 500 }, (_, i) => put(i)));
    const read = await db.getMany<{ n: number }>('userid_pushrules', Array.from({ length: 500 }, (_, i) => strKey(`@u${i}:x`)));
    assert.deepEqual(read.map((r) => r?.n), Array.from({ length: 500 }, (_, i) => i));
    assert.ok(writes <= 3, `500 writes went in ${writes} batches`);
  }));

test('it should fail only the writes of a batch that failed, and go on with the next', () =>
  withDb(async (db) => {
    let fail = true;
    const writer = new GroupWriter((ops: BatchOp[]) => {
      if (fail) {
        fail = false;
        return Promise.reject(new Error('disk full'));
      }
      return db.write(ops);
    });
    const first = writer.put([db.put('userid_pushrules', strKey('@a:x'), { n: 1 })]);
    const second = writer.put([db.put('userid_pushrules', strKey('@b:x'), { n: 2 })]);
    await assert.rejects(first, /disk full/);
    await second;
    assert.equal(await db.get('userid_pushrules', strKey('@a:x')), undefined);
    assert.deepEqual(await db.get('userid_pushrules', strKey('@b:x')), { n: 2 });
  }));
