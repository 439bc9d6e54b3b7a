import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from './db.js';
import { StreamCounter } from './streamCounter.js';

async function withDb(fn: (db: Database, dir: string) => Promise<void>) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-stream-'));
  const db = await Database.open(dir);
  try {
    await fn(db, dir);
  } finally {
    await db.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

test('it should not let readers see a position while an earlier one is still being written', async () => {
  await withDb(async (db) => {
    const c = await StreamCounter.open(db);
    const base = c.persisted;
    const a = c.next();
    const b = c.next();
    const seen: number[] = [];
    c.onAdvance((p) => seen.push(p));
    c.finish(b);
    assert.equal(c.persisted, base, 'b finished first, but a is still pending');
    c.finish(a);
    assert.equal(c.persisted, b);
    assert.deepEqual(seen, [b]);
  });
});

test('it should count a failed write as finished so that later positions become visible', async () => {
  await withDb(async (db) => {
    const c = await StreamCounter.open(db);
    await assert.rejects(c.run(async () => { throw new Error('disk on fire'); }));
    const pos = await c.run(async (p) => p);
    assert.equal(c.persisted, pos);
  });
});

test('it should restart above every position handed out before a reopen, even one never finished', async () => {
  await withDb(async (db, dir) => {
    const c = await StreamCounter.open(db);
    let last = 0;
    for (let i = 0; i < 20; i++) last = c.next();
    await db.close();
    const db2 = await Database.open(dir);
    const c2 = await StreamCounter.open(db2);
    assert.ok(c2.next() > last);
    await db2.close();
  });
});

test('it should pass over skipped positions for good, never handing them out, even after a reopen', async () => {
  await withDb(async (db, dir) => {
    const c = await StreamCounter.open(db);
    const { first, count } = c.skip(3_000);
    assert.equal(count, 3_000);
    const owner = c.next();
    assert.equal(owner, first + count, 'the write that owns them comes right after');
    c.finish(owner);
    assert.equal(c.persisted, owner, 'skipped positions hold nothing to wait for');
    // Never more than the durable reservation allows, so a crash cannot reuse them.
    assert.ok(c.skip(1_000_000).count < 10_000);
    const last = c.next();
    await db.close();
    const db2 = await Database.open(dir);
    assert.ok((await StreamCounter.open(db2)).next() > last);
    await db2.close();
  });
});
