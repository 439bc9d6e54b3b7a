// Schema versioning. A new database is stamped with SCHEMA_VERSION; an older one is
// brought forward one step at a time; a newer one (written by a later Parley) is refused.
import type { Database } from './db.js';
import { SCHEMA_VERSION } from './schema.js';

export type MigrationSteps = Record<number, (db: Database) => Promise<void>>;

/** Step n upgrades a database from version n to n+1. None yet: version 1 is the first layout. */
const STEPS: MigrationSteps = {};

const VERSION_KEY = Buffer.from('schema_version');

/** The schema version a database is stamped with (undefined before its first open). */
export const schemaVersionOf = (db: Database): Promise<number | undefined> => db.get<number>('meta_value', VERSION_KEY);

/** `steps` and `target` are parameters so that tests can exercise the mechanism. */
export async function migrate(db: Database, steps: MigrationSteps = STEPS, target: number = SCHEMA_VERSION): Promise<void> {
  let version = await schemaVersionOf(db);
  if (version === undefined) {
    await db.write([db.put('meta_value', VERSION_KEY, target)]);
    return;
  }
  if (version > target) {
    throw new Error(`database schema version ${version} is newer than this Parley understands (${target})`);
  }
  while (version < target) {
    const step = steps[version];
    if (!step) throw new Error(`no migration from schema version ${version}`);
    await step(db);
    version += 1;
    await db.write([db.put('meta_value', VERSION_KEY, version)]);
  }
}
