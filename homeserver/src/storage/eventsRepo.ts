// Stored room events by short event ID, with their placement in the room (state
// groups before and after) and the redactions applied to them.
import type { StoredEvent } from '../rooms/types.js';
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { u64 } from './keys.js';
import { Lru } from './lru.js';
import type { ShortIds } from './shortIds.js';

/** What the events keyspace holds: the event as readers see it, plus where it sits in the room. */
export interface EventRecord extends StoredEvent {
  shortEvent: number;
  shortRoom: number;
  /** The state group holding the room state before this event. */
  groupBefore: number;
  /** The state group after it: a new group for state events, else `groupBefore`. */
  groupAfter: number;
}

export class EventsRepo {
  private readonly cache = new Lru<number, EventRecord>(20_000);

  constructor(
    private readonly db: Database,
    private readonly ids: ShortIds,
  ) {}

  async byShort(short: number): Promise<EventRecord | undefined> {
    return (await this.byShorts([short]))[0];
  }

  async byShorts(shorts: number[]): Promise<Array<EventRecord | undefined>> {
    const out = shorts.map((s) => this.cache.get(s));
    const missing = shorts.map((s, i) => (out[i] === undefined ? i : -1)).filter((i) => i >= 0);
    if (missing.length === 0) return out;
    const found = await this.db.getMany<EventRecord>('shortevent_event', missing.map((i) => u64(shorts[i])));
    missing.forEach((i, j) => {
      const r = found[j];
      out[i] = r;
      if (r !== undefined) this.cache.set(shorts[i], r);
    });
    return out;
  }

  async byId(eventId: string): Promise<EventRecord | undefined> {
    return (await this.byIds([eventId]))[0];
  }

  async byIds(eventIds: string[]): Promise<Array<EventRecord | undefined>> {
    const shorts = await this.ids.eventShorts(eventIds);
    const present = shorts.filter((s): s is number => s !== undefined);
    const records = await this.byShorts(present);
    let k = 0;
    return shorts.map((s) => (s === undefined ? undefined : records[k++]));
  }

  /** Store (or overwrite, e.g. when pruning for a redaction) an event record. */
  put(batch: Batch, record: EventRecord): void {
    batch.add(this.db.put('shortevent_event', u64(record.shortEvent), record));
    batch.afterCommit(() => this.cache.set(record.shortEvent, record));
  }

  /** Drop cached records (their room was purged: admin/roomPurge). */
  forget(shorts: number[]): void {
    for (const s of shorts) this.cache.delete(s);
  }

  /** The redaction event that redacted `eventId`, if any was applied or is waiting for it. */
  redactedBy(eventId: string): Promise<string | undefined> {
    return this.db.get<string>('eventid_redactedby', Buffer.from(eventId, 'utf8'));
  }

  /** redactedBy() of several events in one read. */
  redactedByMany(eventIds: string[]): Promise<Array<string | undefined>> {
    return this.db.getMany<string>('eventid_redactedby', eventIds.map((id) => Buffer.from(id, 'utf8')));
  }

  putRedactedBy(batch: Batch, targetEventId: string, redactionEventId: string): void {
    batch.add(this.db.put('eventid_redactedby', Buffer.from(targetEventId, 'utf8'), redactionEventId));
  }
}
