// Presence: each user's latest presence state, and a stream index so /sync reads
// "whose presence changed in (since, upTo]" with one range.
// Layouts: schema.ts userid_presence, stream_presence.
import { strKey, type Database } from './db.js';
import { key, readU64 } from './keys.js';
import { StreamHead } from '../sync/changeCache.js';
import { Lru } from './lru.js';

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

/** Records kept in memory: a change wakes every sync in the user's rooms, and each reads it. */
const CACHED_RECORDS = 20_000;

interface SharedState {
  /** The newest presence change: a /sync whose token is newer skips the range read. */
  head: StreamHead;
  /** Stored records (null: none); dropped for a user when a write is staged and once it is durable. */
  records: Lru<string, PresenceRecord | null>;
  /** Bumped by each of those drops: a read that overlapped a write is not remembered. */
  epoch: number;
  /** Reads in flight: the syncs one change wakes all ask for the same users at once. */
  reading: Map<string, Promise<PresenceRecord | undefined>>;
}

/** One per database, whichever repo instance writes. */
const shared = new WeakMap<Database, SharedState>();

export class PresenceRepo {
  private readonly s: SharedState;

  constructor(private readonly db: Database) {
    let s = shared.get(db);
    if (!s) shared.set(db, (s = { head: new StreamHead(), records: new Lru(CACHED_RECORDS), epoch: 0, reading: new Map() }));
    this.s = s;
  }

  get(userId: string): Promise<PresenceRecord | undefined> {
    const hit = this.s.records.get(userId);
    if (hit !== undefined) return Promise.resolve(hit ?? undefined);
    let p = this.s.reading.get(userId);
    if (!p) {
      const epoch = this.s.epoch;
      const read: Promise<PresenceRecord | undefined> = this.db.get<PresenceRecord>('userid_presence', strKey(userId)).then((rec) => {
        if (epoch === this.s.epoch) this.s.records.set(userId, rec ?? null);
        return rec;
      });
      p = read.finally(() => {
        if (this.s.reading.get(userId) === p) this.s.reading.delete(userId);
      });
      this.s.reading.set(userId, p);
    }
    return p;
  }

  private forget(userId: string): void {
    this.s.epoch++;
    this.s.records.delete(userId);
    // A read already under way may return the old record: later callers read afresh.
    this.s.reading.delete(userId);
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
    this.s.head.record(record.stream);
    this.forget(userId);
    try {
      await this.db.write(ops);
    } finally {
      this.forget(userId);
    }
  }

  /** Users whose presence changed in (after, upTo], in stream order. */
  async changedSince(after: number, upTo: number): Promise<Array<{ userId: string; stream: number }>> {
    if (!this.s.head.isKnown) {
      const [last] = await this.db.range<string>('stream_presence', { reverse: true, limit: 1 });
      this.s.head.observe(last ? readU64(last[0]) : 0);
    }
    if (!this.s.head.mayHaveChangedSince(after)) return [];
    const rows = await this.db.range<string>('stream_presence', { gt: key(after), lte: key(upTo) });
    return rows.map(([k, userId]) => ({ userId, stream: readU64(k) }));
  }
}
