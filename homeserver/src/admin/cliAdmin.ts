// `parley admin …`: account administration straight on the database, for bootstrapping
// (the first admin) and for when the server is stopped. LevelDB allows one process at a
// time, so these commands refuse to run while the server holds the database; the admin API
// or shared-secret registration (admin: true) do the same against a running server.
import { join } from 'node:path';
import { pino } from 'pino';
import type { Config } from '../config/config.js';
import { Database } from '../storage/db.js';
import { createAccountsModule } from '../users/accountsModule.js';
import { hashingOptions } from '../users/password.js';
import { noopAccountPorts } from '../users/ports.js';

export class DatabaseLockedError extends Error {
  constructor(dir: string) {
    super(
      `the database in ${dir} is in use (is the server running?). Stop the server first, or use the admin API ` +
        `(PUT /_synapse/admin/v1/users/<user_id>/admin) or shared-secret registration with admin: true against the running server.`,
    );
  }
}

/** Open the server's database, telling a lock held by a running server apart from other failures. */
export async function openForAdmin(config: Pick<Config, 'data_dir'>): Promise<Database> {
  const dir = join(config.data_dir, 'db');
  try {
    return await Database.open(dir);
  } catch (err) {
    if (isLocked(err)) throw new DatabaseLockedError(dir);
    throw err;
  }
}

function isLocked(err: unknown): boolean {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const { code, message } = e as { code?: string; message?: string };
    if (code === 'LEVEL_LOCKED' || /\block\b|resource temporarily unavailable/i.test(message ?? '')) return true;
  }
  return false;
}

function accountsOn(db: Database, config: Config) {
  return createAccountsModule(db, { serverName: config.server_name, registration: config.registration, ...hashingOptions(config.password_hashing) }, noopAccountPorts(), pino({ level: 'silent' }));
}

/** `parley admin set-admin USER_ID [--revoke]`. */
export async function setAdminCommand(config: Config, userId: string, admin: boolean): Promise<string> {
  const db = await openForAdmin(config);
  try {
    await accountsOn(db, config).accounts.setAdmin(userId, admin);
    return `${userId} is ${admin ? 'now' : 'no longer'} a server admin`;
  } finally {
    await db.close();
  }
}

/** `parley admin create-user LOCALPART --password P [--admin]`. */
export async function createUserCommand(config: Config, localpart: string, password: string, admin: boolean): Promise<string> {
  const db = await openForAdmin(config);
  try {
    const { userId } = await accountsOn(db, config).accounts.register({ localpart: localpart.toLowerCase(), password, admin });
    return `created ${userId}${admin ? ' (server admin)' : ''}`;
  } finally {
    await db.close();
  }
}
