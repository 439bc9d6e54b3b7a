// Test support (imported by tests and test kits only): a real Database in a temp
// directory, optionally with the stream counter and room outputs every module shares.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoomOutputs } from '../events/outputs.js';
import { Database } from '../storage/db.js';
import { StreamCounter } from '../storage/streamCounter.js';

export interface TestDatabaseOptions {
  /** Temp directory name prefix, e.g. 'parley-sync-'. */
  prefix?: string;
  /** Reuse this directory (restart tests); close() then leaves it in place. */
  dir?: string;
  /** Open the database in this subdirectory (when the module keeps other files beside it). */
  dbSubdir?: string;
}

export interface TestDatabase {
  dir: string;
  db: Database;
  /** Close the database and delete the directory (unless the caller passed it in). */
  close(): Promise<void>;
}

export interface TestStorage extends TestDatabase {
  stream: StreamCounter;
  outputs: RoomOutputs;
}

export async function openTestDatabase(opts: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), opts.prefix ?? 'parley-test-'));
  const db = await Database.open(opts.dbSubdir ? join(dir, opts.dbSubdir) : dir);
  return {
    dir,
    db,
    async close() {
      await db.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function openTestStorage(opts: TestDatabaseOptions = {}): Promise<TestStorage> {
  const base = await openTestDatabase(opts);
  return { ...base, stream: await StreamCounter.open(base.db), outputs: new RoomOutputs() };
}

/**
 * Records the keyspace of every read that reaches storage (get, getMany, range) until
 * `stop()`: tests that a path is served from memory assert on what was read.
 */
export function watchReads(db: Database): { spaces: string[]; stop(): void } {
  const spaces: string[] = [];
  const { get, getMany, range } = db;
  db.get = ((space, ...rest) => (spaces.push(space), get.call(db, space, ...rest))) as typeof get;
  db.getMany = ((space, ...rest) => (spaces.push(space), getMany.call(db, space, ...rest))) as typeof getMany;
  db.range = ((space, ...rest) => (spaces.push(space), range.call(db, space, ...rest))) as typeof range;
  return {
    spaces,
    stop() {
      db.get = get;
      db.getMany = getMany;
      db.range = range;
    },
  };
}
