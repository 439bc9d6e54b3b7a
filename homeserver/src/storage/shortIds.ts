// Short IDs: dense integers standing for room IDs, event IDs and state keys inside
// keys and state groups. Each mapping is stored both ways, in the same batch as the
// first record that uses it, and cached in memory.
//
// A mapping handed out but not yet durable stays in `pending` (never evicted), and
// every batch using it re-writes it, so a failed write never leaves a record that
// points at an unmapped short ID, and one long ID never gets two short IDs.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { readU64, u64 } from './keys.js';
import { Lru } from './lru.js';
import type { KeyspaceName } from './schema.js';
import type { StateKey } from '@parley/federation/core/types';

class Dictionary {
  private readonly forward: Lru<string, number>;
  private readonly backward: Lru<number, string>;
  private readonly pending = new Map<string, number>();
  /**
   * Long IDs read and found unmapped (only where lookups of absent IDs recur: state keys such
   * as m.room.server_acl, asked for on every /send to a room that has none). Every mapping is
   * made here, so one is absent until this dictionary maps it; `mapped` counts mappings made, so
   * a read that raced one is not remembered as absent.
   */
  private readonly absent: Lru<string, true> | undefined;
  private mapped = 0;

  private constructor(
    private readonly db: Database,
    private readonly fwdSpace: KeyspaceName,
    private readonly backSpace: KeyspaceName,
    private next: number,
    capacity: number,
    absentCapacity: number,
  ) {
    this.forward = new Lru(capacity);
    this.backward = new Lru(capacity);
    this.absent = absentCapacity > 0 ? new Lru(absentCapacity) : undefined;
  }

  static async open(db: Database, fwd: KeyspaceName, back: KeyspaceName, capacity: number, absentCapacity = 0): Promise<Dictionary> {
    const [last] = await db.range<string>(back, { reverse: true, limit: 1 });
    return new Dictionary(db, fwd, back, last ? readU64(last[0]) + 1 : 1, capacity, absentCapacity);
  }

  async lookup(long: string): Promise<number | undefined> {
    return (await this.lookupMany([long]))[0];
  }

  async lookupMany(longs: string[]): Promise<Array<number | undefined>> {
    const out: Array<number | undefined> = longs.map((l) => this.pending.get(l) ?? this.forward.get(l));
    const missing = longs.map((l, i) => (out[i] === undefined && this.absent?.get(l) === undefined ? i : -1)).filter((i) => i >= 0);
    if (missing.length === 0) return out;
    const mappedBefore = this.mapped;
    const found = await this.db.getMany<number>(this.fwdSpace, missing.map((i) => Buffer.from(longs[i], 'utf8')));
    missing.forEach((i, j) => {
      const s = found[j];
      // A concurrent allocation may have happened while we were reading.
      out[i] = this.pending.get(longs[i]) ?? s;
      if (s !== undefined) this.remember(longs[i], s);
      else if (this.mapped === mappedBefore) this.absent?.set(longs[i], true);
    });
    return out;
  }

  async reverse(shorts: number[]): Promise<Array<string | undefined>> {
    const out: Array<string | undefined> = shorts.map((s) => this.backward.get(s));
    const missing = shorts.map((s, i) => (out[i] === undefined ? i : -1)).filter((i) => i >= 0);
    if (missing.length === 0) return out;
    const found = await this.db.getMany<string>(this.backSpace, missing.map((i) => u64(shorts[i])));
    missing.forEach((i, j) => {
      const l = found[j];
      out[i] = l ?? this.pendingLong(shorts[i]);
      if (l !== undefined) this.remember(l, shorts[i]);
    });
    return out;
  }

  /** The short ID of `long`, allocating one (written as part of `batch`) if it has none. */
  async alloc(long: string, batch: Batch): Promise<number> {
    const known = await this.lookup(long);
    // Re-read pending: another allocation may have run while we awaited the lookup.
    let short = this.pending.get(long) ?? known;
    if (short === undefined) {
      short = this.next++;
      this.pending.set(long, short);
    }
    if (this.pending.has(long)) this.stage(long, short, batch);
    return short;
  }

  /** alloc() of many IDs with one read for all of them (large imports: a partial-state resync). */
  async allocMany(longs: string[], batch: Batch): Promise<number[]> {
    const known = await this.lookupMany(longs);
    return longs.map((long, i) => {
      let short = this.pending.get(long) ?? known[i];
      if (short === undefined) {
        short = this.next++;
        this.pending.set(long, short);
      }
      if (this.pending.has(long)) this.stage(long, short, batch);
      return short;
    });
  }

  /**
   * alloc() without the read, for a caller that has just looked `long` up and found no short
   * ID, or knows it to be new (an event made in this turn of its room's queue), in a scope
   * where nobody else allocates it (the room's queue, for its events). What this process
   * mapped since then is still seen (pending, or remembered once durable).
   */
  allocNew(long: string, batch: Batch): number {
    let short = this.pending.get(long) ?? this.forward.get(long);
    if (short === undefined) {
      short = this.next++;
      this.pending.set(long, short);
    }
    if (this.pending.has(long)) this.stage(long, short, batch);
    return short;
  }

  /** Write a pending mapping as part of `batch`; it stops being pending once that batch is durable. */
  private stage(long: string, short: number, batch: Batch): void {
    this.mapped++;
    this.absent?.delete(long);
    batch.add(this.db.put(this.fwdSpace, Buffer.from(long, 'utf8'), short), this.db.put(this.backSpace, u64(short), long));
    batch.afterCommit(() => {
      this.pending.delete(long);
      this.remember(long, short);
    });
  }

  private remember(long: string, short: number): void {
    this.absent?.delete(long);
    this.forward.set(long, short);
    this.backward.set(short, long);
  }

  private pendingLong(short: number): string | undefined {
    for (const [l, s] of this.pending) if (s === short) return l;
    return undefined;
  }
}

export class ShortIds {
  private constructor(
    readonly rooms: Dictionary,
    readonly events: Dictionary,
    readonly stateKeys: Dictionary,
  ) {}

  static async open(db: Database): Promise<ShortIds> {
    return new ShortIds(
      await Dictionary.open(db, 'roomid_short', 'short_roomid', 10_000),
      await Dictionary.open(db, 'eventid_short', 'short_eventid', 50_000),
      await Dictionary.open(db, 'statekey_short', 'short_statekey', 200_000, 10_000),
    );
  }

  room(roomId: string): Promise<number | undefined> {
    return this.rooms.lookup(roomId);
  }

  async roomIdOf(short: number): Promise<string | undefined> {
    return (await this.rooms.reverse([short]))[0];
  }

  event(eventId: string): Promise<number | undefined> {
    return this.events.lookup(eventId);
  }

  eventShorts(eventIds: string[]): Promise<Array<number | undefined>> {
    return this.events.lookupMany(eventIds);
  }

  async eventIdsOf(shorts: number[]): Promise<string[]> {
    const ids = await this.events.reverse(shorts);
    return ids.map((id, i) => {
      if (id === undefined) throw new Error(`short event ${shorts[i]} has no event ID`);
      return id;
    });
  }

  stateKey(key: StateKey): Promise<number | undefined> {
    return this.stateKeys.lookup(key);
  }

  async stateKeysOf(shorts: number[]): Promise<StateKey[]> {
    const keys = await this.stateKeys.reverse(shorts);
    return keys.map((k, i) => {
      if (k === undefined) throw new Error(`short state key ${shorts[i]} has no state key`);
      return k;
    });
  }
}

export type { Dictionary };
