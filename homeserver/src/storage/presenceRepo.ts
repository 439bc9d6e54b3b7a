// Presence: each user's latest presence state, and a stream index so /sync reads
// "whose presence changed in (since, upTo]" with one range.
// Layouts: schema.ts userid_presence, stream_presence.
import { strKey, type Database } from './db.js';
import { key, readU64 } from './keys.js';

export type PresenceState = 'online' | 'unavailable' | 'offline';

export interface PresenceRecord {
  state: PresenceState;
  statusMsg?: string;
  /** Last pro-active action (sending an event, setting presence online). */
  lastActiveTs: number;
  /** Last /sync that marked the user present; 0 if none. */
  lastSyncTs: number;
  currentlyActive: boolean;
  /** Stream position of this change. */
  stream: number;
}

export class PresenceRepo {
  constructor(private readonly db: Database) {}

  get(userId: string): Promise<PresenceRecord | undefined> {
    return this.db.get<PresenceRecord>('userid_presence', strKey(userId));
  }

  /** Every stored record (start-up: timers for users who were not offline). */
  async all(): Promise<Array<{ userId: string; record: PresenceRecord }>> {
    const rows = await this.db.range<PresenceRecord>('userid_presence', {});
    return rows.map(([k, record]) => ({ userId: k.toString('utf8'), record }));
  }

  /** Store the new record and move the user's stream entry, atomically. */
  async put(userId: string, record: PresenceRecord, previous: PresenceRecord | undefined): Promise<void> {
    const ops = [this.db.put('userid_presence', strKey(userId), record), this.db.put('stream_presence', key(record.stream), userId)];
    if (previous && previous.stream !== record.stream) ops.push(this.db.del('stream_presence', key(previous.stream)));
    await this.db.write(ops);
  }

  /** Users whose presence changed in (after, upTo], in stream order. */
  async changedSince(after: number, upTo: number): Promise<Array<{ userId: string; stream: number }>> {
    const rows = await this.db.range<string>('stream_presence', { gt: key(after), lte: key(upTo) });
    return rows.map(([k, userId]) => ({ userId, stream: readU64(k) }));
  }
}
