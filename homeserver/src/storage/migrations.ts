// Schema versioning. A new database is stamped with SCHEMA_VERSION; an older one is
// brought forward one step at a time; a newer one (written by a later Parley) is refused.
import type { Database } from './db.js';
import { SCHEMA_VERSION } from './schema.js';

/** Step n upgrades a database from version n to n+1. None yet: version 1 is the first layout. */
const steps: Record<number, (db: Database) => Promise<void>> = {};

const VERSION_KEY = Buffer.from('schema_version');

export async function migrate(db: Database): Promise<void> {
  let version = await db.get<number>('meta_value', VERSION_KEY);
  if (version === undefined) {
    await db.write([db.put('meta_value', VERSION_KEY, SCHEMA_VERSION)]);
    return;
  }
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this Parley understands (${SCHEMA_VERSION})`);
  }
  while (version < SCHEMA_VERSION) {
    const step = steps[version];
    if (!step) throw new Error(`no migration from schema version ${version}`);
    await step(db);
    version += 1;
    await db.write([db.put('meta_value', VERSION_KEY, version)]);
  }
}
