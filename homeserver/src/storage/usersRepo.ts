// Local accounts and their profiles. Writes are returned as batch operations so
// that a service can commit an account together with its device, token and
// indexes in one atomic batch (Database.write).
import type { BatchOp, Database } from './db.js';
import { strKey } from './db.js';

export interface UserRecord {
  /** Encoded password hash (users/password.ts); absent when no password login is possible (e.g. deactivated). */
  passwordHash?: string;
  /** Server administrator. */
  admin: boolean;
  deactivated: boolean;
  /** Creation time, ms since the epoch. */
  createdTs: number;
}

/** The profile fields Parley stores for a local user. */
export interface Profile {
  displayname?: string;
  avatar_url?: string;
}

const SEQ_KEY = strKey('user_id_seq');

export class UsersRepo {
  constructor(private readonly db: Database) {}

  getUser(userId: string): Promise<UserRecord | undefined> {
    return this.db.get<UserRecord>('userid_user', strKey(userId));
  }

  putUser(userId: string, user: UserRecord): BatchOp {
    return this.db.put('userid_user', strKey(userId), user);
  }

  async getProfile(userId: string): Promise<Profile | undefined> {
    return this.db.get<Profile>('userid_profile', strKey(userId));
  }

  putProfile(userId: string, profile: Profile): BatchOp {
    return this.db.put('userid_profile', strKey(userId), profile);
  }

  /** The last numeric localpart handed out by generation (0 when none). */
  async lastGeneratedLocalpart(): Promise<number> {
    return (await this.db.get<number>('meta_value', SEQ_KEY)) ?? 0;
  }

  putLastGeneratedLocalpart(n: number): BatchOp {
    return this.db.put('meta_value', SEQ_KEY, n);
  }

  /** Marks a deactivated user whose room memberships still have to be left. */
  putPendingDeactivation(userId: string, since: number): BatchOp {
    return this.db.put('userid_pendingdeactivation', strKey(userId), { since });
  }

  delPendingDeactivation(userId: string): BatchOp {
    return this.db.del('userid_pendingdeactivation', strKey(userId));
  }

  async pendingDeactivations(): Promise<string[]> {
    const rows = await this.db.range<{ since: number }>('userid_pendingdeactivation', {});
    return rows.map(([k]) => k.toString('utf8'));
  }

  /** Every local account, ordered by user ID (admin API: the list is built in memory). */
  async allUsers(): Promise<Array<{ userId: string; user: UserRecord }>> {
    const rows = await this.db.range<UserRecord>('userid_user', {});
    return rows.map(([k, user]) => ({ userId: k.toString('utf8'), user }));
  }

  /** Profiles of several users (undefined where none is stored). */
  getProfiles(userIds: string[]): Promise<Array<Profile | undefined>> {
    return this.db.getMany<Profile>('userid_profile', userIds.map(strKey));
  }

  putErased(userId: string, ts: number): BatchOp {
    return this.db.put('userid_erased', strKey(userId), { ts });
  }

  delErased(userId: string): BatchOp {
    return this.db.del('userid_erased', strKey(userId));
  }

  /** Every erased user (few: loaded once at start). */
  async erasedUsers(): Promise<string[]> {
    const rows = await this.db.range<{ ts: number }>('userid_erased', {});
    return rows.map(([k]) => k.toString('utf8'));
  }

  write(ops: BatchOp[]): Promise<void> {
    return this.db.write(ops);
  }
}
