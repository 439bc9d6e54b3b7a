// Database.write groups the writes made while one is in flight into the next LevelDB write
// (db.ts flush), on a real database: every write is readable once its promise resolves, a
// burst costs a handful of LevelDB writes, each writer's operations land whole and in the
// order asked, a writer with an operation LevelDB refuses fails alone, and close waits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestDatabase } from '../testing/storage.js';
import { Database, strKey } from './db.js';

async function withDb(fn: (db: Database, dir: string) => Promise<void>): Promise<void> {
  const t = await openTestDatabase({ prefix: 'parley-db-' });
  try {
    await fn(t.db, t.dir);
  } finally {
    await t.close();
  }
}

const key = (i: number) => strKey(`@u${i}:x`);

test('it should make a burst of writes durable in a few LevelDB writes, each readable once its promise resolves', () =>
  withDb(async (db) => {
    let writes = 0;
    db.level.on('write', () => writes++);
    await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        await db.write([db.put('userid_pushrules', key(i), { n: i }), db.put('userid_pushrules', strKey(`@v${i}:x`), { n: 1000 + i })]);
        // Readable as soon as its own promise resolved, both operations of it.
        const [mine, pair] = await db.getMany<{ n: number }>('userid_pushrules', [key(i), strKey(`@v${i}:x`)]);
        assert.deepEqual([mine?.n, pair?.n], [i, 1000 + i]);
      }),
    );
    assert.ok(writes <= 3, `500 writes went in ${writes} LevelDB writes`);
  }));

test('it should apply writes in the order they were asked for, derived ones too', () =>
  withDb(async (db) => {
    const k = strKey('@same:x');
    await Promise.all([
      db.write([db.put('userid_pushrules', k, { n: 1 })]),
      db.writeDerived([db.put('userid_pushrules', k, { n: 2 })]),
      db.write([db.put('userid_pushrules', k, { n: 3 })]),
      db.write([db.del('userid_pushrules', strKey('@gone:x'))]),
    ]);
    assert.deepEqual(await db.get('userid_pushrules', k), { n: 3 });
  }));

test('it should fail only the writer whose operation LevelDB refuses', () =>
  withDb(async (db) => {
    await db.write([db.put('userid_pushrules', key(0), { n: 0 })]);
    // Queued together behind the next write in flight.
    const inFlight = db.write([db.put('userid_pushrules', key(1), { n: 1 })]);
    const bad = db.write([db.put('userid_pushrules', key(2), { n: 2 }), db.put('userid_pushrules', key(3), undefined)]);
    const good = db.write([db.put('userid_pushrules', key(4), { n: 4 })]);
    await inFlight;
    await assert.rejects(bad);
    await good;
    const read = await db.getMany<{ n: number }>('userid_pushrules', [0, 1, 2, 3, 4].map(key));
    assert.deepEqual(read.map((r) => r?.n), [0, 1, undefined, undefined, 4], 'the refused writer wrote nothing, the others all');
  }));

test('it should write what was asked for before closing', async () => {
  const t = await openTestDatabase({ prefix: 'parley-db-' });
  const pending = Array.from({ length: 20 }, (_, i) => t.db.write([t.db.put('userid_pushrules', key(i), { n: i })]));
  await t.db.close();
  await Promise.all(pending);
  const reopened = await Database.open(t.dir);
  try {
    const read = await reopened.getMany<{ n: number }>('userid_pushrules', Array.from({ length: 20 }, (_, i) => key(i)));
    assert.deepEqual(read.map((r) => r?.n), Array.from({ length: 20 }, (_, i) => i));
  } finally {
    await reopened.close();
    const { rmSync } = await import('node:fs');
    rmSync(t.dir, { recursive: true, force: true });
  }
});
