import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from './db.js';
import { migrate, schemaVersionOf } from './migrations.js';
import { SCHEMA_VERSION } from './schema.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-migrations-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('it should stamp a new database with the current schema version', async () => {
  await withDir(async (dir) => {
    const db = await Database.open(dir);
    assert.equal(await schemaVersionOf(db), SCHEMA_VERSION);
    await db.close();
  });
});

test('it should bring an older database forward one step at a time, in order, and only once', async () => {
  await withDir(async (dir) => {
    const db = await Database.open(dir);
    const ran: number[] = [];
    const marker = Buffer.from('migration_test');
    const steps = {
      [SCHEMA_VERSION]: async (d: Database) => {
        ran.push(SCHEMA_VERSION);
        await d.write([d.put('meta_value', marker, 'first')]);
      },
      [SCHEMA_VERSION + 1]: async (d: Database) => {
        ran.push(SCHEMA_VERSION + 1);
        assert.equal(await d.get('meta_value', marker), 'first', 'the earlier step has been applied');
      },
    };
    await migrate(db, steps, SCHEMA_VERSION + 2);
    assert.deepEqual(ran, [SCHEMA_VERSION, SCHEMA_VERSION + 1]);
    assert.equal(await schemaVersionOf(db), SCHEMA_VERSION + 2);
    await migrate(db, steps, SCHEMA_VERSION + 2);
    assert.equal(ran.length, 2, 'an up-to-date database is left alone');
    await assert.rejects(migrate(db, steps, SCHEMA_VERSION + 3), /no migration from schema version/);
    assert.equal(await schemaVersionOf(db), SCHEMA_VERSION + 2, 'a missing step changes nothing');
    await db.close();
  });
});

test('it should refuse to open a database written by a newer Parley, and leave it openable', async () => {
  await withDir(async (dir) => {
    const db = await Database.open(dir);
    await migrate(db, { [SCHEMA_VERSION]: async () => {} }, SCHEMA_VERSION + 1);
    await db.close();
    await assert.rejects(Database.open(dir), /newer than this Parley understands/);
    await assert.rejects(Database.open(dir), /newer than this Parley understands/, 'the refused open released the lock');
  });
});
