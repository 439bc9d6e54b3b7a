// Room state, stored compactly. A state group is the state of a room at some point:
// a parent group plus a delta (entries set or replaced, entries removed), or a full
// snapshot. A snapshot is written whenever the delta chain would reach
// SNAPSHOT_INTERVAL groups, so resolving any group reads at most that many records.
// Resolved groups are kept in an LRU. Each room's current state is also materialised
// (short room · short state key → short event) for point lookups.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, prefixRange, readU64, u64 } from './keys.js';
import { Lru } from './lru.js';

export const SNAPSHOT_INTERVAL = 32;
/** The state before a room's create event: empty, and never stored. */
export const EMPTY_GROUP = 0;

/** Short state key → short event ID. */
export type ShortState = ReadonlyMap<number, number>;

export interface StateGroupRecord {
  room: number;
  parent?: number;
  /** Groups between this one and the snapshot it builds on; 0 = this is a snapshot. */
  level: number;
  /** Flattened [short state key, short event] pairs: the entries set here (all of them, in a snapshot). */
  set: number[];
  /** Short state keys removed relative to the parent (state resolution can drop entries). */
  remove?: number[];
}

export interface StateDelta {
  set: ReadonlyMap<number, number>;
  remove?: readonly number[];
}

export class StateRepo {
  private readonly resolved = new Lru<number, ShortState>(128);
  private readonly records = new Lru<number, StateGroupRecord>(8192);

  private constructor(
    private readonly db: Database,
    private nextGroup: number,
  ) {}

  static async open(db: Database): Promise<StateRepo> {
    const [last] = await db.range<unknown>('stategroup_delta', { ...prefixRange(Buffer.alloc(0)), reverse: true, limit: 1 });
    return new StateRepo(db, last ? readU64(last[0]) + 1 : 1);
  }

  async record(group: number): Promise<StateGroupRecord> {
    const cached = this.records.get(group);
    if (cached) return cached;
    const rec = await this.db.get<StateGroupRecord>('stategroup_delta', u64(group));
    if (!rec) throw new Error(`state group ${group} is missing`);
    this.records.set(group, rec);
    return rec;
  }

  /** The full state of a group. The returned map is shared: do not modify it. */
  async resolve(group: number): Promise<ShortState> {
    if (group === EMPTY_GROUP) return EMPTY;
    const chain: StateGroupRecord[] = [];
    let base: ShortState | undefined;
    for (let g: number | undefined = group; g !== undefined; ) {
      base = this.resolved.get(g);
      if (base) break;
      const rec = await this.record(g);
      chain.push(rec);
      g = rec.level === 0 ? undefined : rec.parent;
    }
    // Held already (the common case: the room's tip): that very map, not a copy of a whole state per call.
    if (base !== undefined && chain.length === 0) return base;
    const state = new Map(base ?? []);
    for (let i = chain.length - 1; i >= 0; i--) applyRecord(state, chain[i]);
    this.resolved.set(group, state);
    return state;
  }

  /**
   * Write a new group: `parent` (whose full state is `parentState`) with `delta` applied.
   * Returns the group ID and its full state.
   */
  async addGroup(
    batch: Batch,
    room: number,
    parent: number | undefined,
    parentState: ShortState,
    delta: StateDelta,
  ): Promise<{ group: number; state: ShortState }> {
    if (parent === EMPTY_GROUP) parent = undefined;
    const parentLevel = parent === undefined ? undefined : (await this.record(parent)).level;
    const level = parentLevel === undefined || parentLevel + 1 >= SNAPSHOT_INTERVAL ? 0 : parentLevel + 1;
    const state = new Map(parentState);
    for (const k of delta.remove ?? []) state.delete(k);
    for (const [k, e] of delta.set) state.set(k, e);

    const group = this.nextGroup++;
    const rec: StateGroupRecord =
      level === 0
        ? { room, level, set: flatten(state) }
        : { room, parent, level, set: flatten(delta.set), ...(delta.remove?.length ? { remove: [...delta.remove] } : {}) };
    batch.add(this.db.put('stategroup_delta', u64(group), rec));
    // Cached at once: only records written in this batch (or later ones) can refer to the group.
    this.records.set(group, rec);
    this.resolved.set(group, state);
    return { group, state };
  }

  /**
   * Fill in state a room was missing (a partial-state join, MSC3706): every snapshot of room
   * `room` from group `from` on gets the entries of `entries` whose keys it lacks, and the
   * delta groups built on those snapshots inherit them. The one case where stored groups are
   * rewritten: the state they describe was incomplete, not different. Caches are dropped once
   * the batch is durable (readers holding resolved groups must drop theirs too).
   * Returns how many groups were rewritten.
   */
  async fillSnapshots(batch: Batch, room: number, from: number, entries: ShortState): Promise<number> {
    const rows = await this.db.range<StateGroupRecord>('stategroup_delta', { gte: u64(from) });
    let n = 0;
    for (const [k, rec] of rows) {
      if (rec.room !== room || rec.level !== 0) continue;
      const have = new Set<number>();
      for (let i = 0; i < rec.set.length; i += 2) have.add(rec.set[i]);
      const set = [...rec.set];
      for (const [sk, e] of entries) if (!have.has(sk)) set.push(sk, e);
      if (set.length === rec.set.length) continue;
      const group = readU64(k);
      const next: StateGroupRecord = { ...rec, set };
      batch.add(this.db.put('stategroup_delta', k, next));
      batch.afterCommit(() => this.records.set(group, next));
      n++;
    }
    batch.afterCommit(() => this.resolved.clear());
    return n;
  }

  /** The room's materialised current state. */
  async current(shortRoom: number): Promise<Map<number, number>> {
    const rows = await this.db.range<number>('roomstatekey_event', prefixRange(key(shortRoom)));
    return new Map(rows.map(([k, e]) => [readU64(k, 8), e]));
  }

  async currentEntry(shortRoom: number, shortKey: number): Promise<number | undefined> {
    return this.db.get<number>('roomstatekey_event', key(shortRoom, shortKey));
  }

  /** Record changes to the room's current state. */
  setCurrent(batch: Batch, shortRoom: number, delta: StateDelta): void {
    for (const k of delta.remove ?? []) batch.add(this.db.del('roomstatekey_event', key(shortRoom, k)));
    for (const [k, e] of delta.set) batch.add(this.db.put('roomstatekey_event', key(shortRoom, k), e));
  }
}

const EMPTY: ShortState = new Map();

function applyRecord(state: Map<number, number>, rec: StateGroupRecord): void {
  if (rec.level === 0) state.clear();
  for (const k of rec.remove ?? []) state.delete(k);
  for (let i = 0; i < rec.set.length; i += 2) state.set(rec.set[i], rec.set[i + 1]);
}

function flatten(m: ReadonlyMap<number, number>): number[] {
  const out: number[] = [];
  for (const [k, e] of m) out.push(k, e);
  return out;
}
