// A user's push rules: one record per user (their own rules and their changes to the
// server-default ones). Layout: schema.ts userid_pushrules.
import type { StoredPushRules } from '../push/ruleset.js';
import { strKey, type Database } from './db.js';

export class PushRulesRepo {
  constructor(private readonly db: Database) {}

  get(userId: string): Promise<StoredPushRules | undefined> {
    return this.db.get<StoredPushRules>('userid_pushrules', strKey(userId));
  }

  getMany(userIds: string[]): Promise<Array<StoredPushRules | undefined>> {
    return this.db.getMany<StoredPushRules>('userid_pushrules', userIds.map(strKey));
  }

  /** Every user with a stored record (read once at start: few users change their rules). */
  async all(): Promise<Array<{ userId: string; rules: StoredPushRules }>> {
    const rows = await this.db.range<StoredPushRules>('userid_pushrules', {});
    return rows.map(([k, rules]) => ({ userId: k.toString('utf8'), rules }));
  }

  put(userId: string, rules: StoredPushRules): Promise<void> {
    return this.db.write([this.db.put('userid_pushrules', strKey(userId), rules)]);
  }
}
