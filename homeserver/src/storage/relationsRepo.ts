// The relations index: which events point at a parent through m.relates_to, by
// relation type and in stream order; the annotation index (one reaction per sender,
// type and key); and the thread activity stream of each room. Written in the same
// batch as the child event, and removed in the batch of the child's redaction.
// Children fetched by backfill sit at negative positions (below the room's first
// event, as in the timeline) in a keyspace of their own, merged into reads whose window
// reaches below 0; they take no place in the thread activity stream (/threads lists
// threads by recent activity, and backfilled replies are history).
// Layouts: schema.ts parentrel_child, parentrel_backfillchild, annotation_event, roomstream_threadroot.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, prefixRange, readU64, splitStrings } from './keys.js';
import { Lru } from './lru.js';

/** A child event as the index knows it. */
export interface RelationEntry {
  eventId: string;
  relType: string;
  /** The child's event type. */
  type: string;
  sender: string;
  stream: number;
  key?: string;
}

/** What is indexed for one child event. */
export interface RelationChild {
  eventId: string;
  shortRoom: number;
  stream: number;
  type: string;
  sender: string;
  parentId: string;
  relType: string;
  key?: string;
}

interface RelationValue {
  eventId: string;
  type: string;
  sender: string;
  key?: string;
}

const MAX = Number.MAX_SAFE_INTEGER;
/** Below every position: backfilled children have negative ones. */
const BOTTOM = -MAX;
/** Parents remembered as childless (an event ID and a Map entry each: a few MB at most). */
const CHILDLESS_CACHE = 20_000;

export class RelationsRepo {
  /**
   * Events known to have no children at all. Nearly every event has none, and every
   * /sync or /messages page asks (bundled aggregations) for each event it serves, once
   * per receiver: without this, a message fanned out to N syncing users costs N×3
   * index scans. Cleared for a parent when a child is staged and again once that batch
   * is durable; a read overlapping a write (the epoch moved) is not remembered.
   */
  private readonly childless = new Lru<string, true>(CHILDLESS_CACHE);
  private readonly probing = new Map<string, Promise<boolean>>();
  private epoch = 0;

  constructor(private readonly db: Database) {}

  private touched(batch: Batch, parentId: string): void {
    const forget = () => {
      this.childless.delete(parentId);
      // A probe in flight may predate the write: later callers start their own.
      this.probing.delete(parentId);
      this.epoch++;
    };
    forget();
    batch.afterCommit(forget);
  }

  /** Whether `parentId` has any child of any relation type (cached when it has none). */
  hasChildren(parentId: string): Promise<boolean> {
    if (this.childless.get(parentId)) return Promise.resolve(false);
    const inFlight = this.probing.get(parentId);
    if (inFlight) return inFlight;
    const epoch = this.epoch;
    const probe = (space: 'parentrel_child' | 'parentrel_backfillchild') => this.db.range<RelationValue>(space, { ...prefixRange(key(parentId)), limit: 1 });
    const p: Promise<boolean> = probe('parentrel_child')
      .then(async (rows) => (rows.length > 0 ? rows : probe('parentrel_backfillchild')))
      .then((rows) => {
        if (rows.length === 0 && epoch === this.epoch) this.childless.set(parentId, true);
        return rows.length > 0;
      })
      .finally(() => {
        if (this.probing.get(parentId) === p) this.probing.delete(parentId);
      });
    this.probing.set(parentId, p);
    return p;
  }

  /**
   * An event made here in this batch: its ID is new to everyone, so nothing relates to it yet
   * and the syncs that serve it first need not probe. A child staged after it clears this.
   */
  bornChildless(batch: Batch, eventId: string): void {
    batch.afterCommit(() => this.childless.set(eventId, true));
  }

  stage(batch: Batch, c: RelationChild): void {
    this.touched(batch, c.parentId);
    const value: RelationValue = { eventId: c.eventId, type: c.type, sender: c.sender, ...(c.key !== undefined ? { key: c.key } : {}) };
    batch.add(this.db.put(...childKey(c), value));
    if (c.relType === 'm.annotation' && c.key !== undefined) {
      batch.add(this.db.put('annotation_event', key(c.parentId, c.sender, c.type, c.key), c.eventId));
    }
    if (c.relType === 'm.thread' && c.stream > 0) batch.add(this.db.put('roomstream_threadroot', key(c.shortRoom, c.stream), c.parentId));
  }

  /** Remove a child from every index (its redaction breaks the relationship). */
  async unstage(batch: Batch, c: RelationChild): Promise<void> {
    this.touched(batch, c.parentId);
    batch.add(this.db.del(...childKey(c)));
    if (c.relType === 'm.annotation' && c.key !== undefined) {
      const k = key(c.parentId, c.sender, c.type, c.key);
      // Over federation a duplicate may exist: only the entry naming this child goes.
      if ((await this.db.get<string>('annotation_event', k)) === c.eventId) batch.add(this.db.del('annotation_event', k));
    }
    if (c.relType === 'm.thread' && c.stream > 0) batch.add(this.db.del('roomstream_threadroot', key(c.shortRoom, c.stream)));
  }

  /**
   * Children of `parentId` with `after < stream <= upTo`, in stream order ('f') or newest
   * first ('b'); all relation types when `relType` is absent. `after` defaults to below
   * every backfilled child.
   */
  async children(
    parentId: string,
    opts: { relType?: string; after?: number; upTo?: number; dir: 'f' | 'b'; limit: number },
  ): Promise<RelationEntry[]> {
    if (opts.limit <= 0) return [];
    const after = Math.max(opts.after ?? BOTTOM, BOTTOM);
    const upTo = Math.min(opts.upTo ?? MAX, MAX);
    if (opts.relType !== undefined) {
      const relType = opts.relType;
      const positive = async (limit: number) =>
        upTo <= 0 || limit <= 0
          ? []
          : (
              await this.db.range<RelationValue>('parentrel_child', {
                gt: key(parentId, relType, Math.max(after, 0)),
                lte: key(parentId, relType, upTo),
                reverse: opts.dir === 'b',
                limit,
              })
            ).map(([k, v]) => entryOf(k, v));
      // Position p < 0 is stored under depth −p: (after, upTo] ∩ (−∞, 0) is depth in [max(1, −upTo), −after).
      const negative = async (limit: number) =>
        after >= 0 || limit <= 0 || Math.max(1, -upTo) >= -after
          ? []
          : (
              await this.db.range<RelationValue>('parentrel_backfillchild', {
                gte: key(parentId, relType, Math.max(1, -upTo)),
                lt: key(parentId, relType, Math.min(-after, MAX)),
                reverse: opts.dir === 'f',
                limit,
              })
            ).map(([k, v]) => entryOf(k, v, -1));
      if (opts.dir === 'b') {
        const first = await positive(opts.limit);
        return [...first, ...(await negative(opts.limit - first.length))];
      }
      const first = await negative(opts.limit);
      return [...first, ...(await positive(opts.limit - first.length))];
    }
    const rows = await this.db.range<RelationValue>('parentrel_child', prefixRange(key(parentId)));
    const backfilled = after < 0 ? await this.db.range<RelationValue>('parentrel_backfillchild', prefixRange(key(parentId))) : [];
    const all = [...rows.map(([k, v]) => entryOf(k, v)), ...backfilled.map(([k, v]) => entryOf(k, v, -1))].filter(
      (e) => e.stream > after && e.stream <= upTo,
    );
    all.sort((a, b) => (opts.dir === 'f' ? a.stream - b.stream : b.stream - a.stream));
    return all.slice(0, opts.limit);
  }

  /** Every child of one relation type, oldest first. */
  async all(parentId: string, relType: string): Promise<RelationEntry[]> {
    if (this.childless.get(parentId)) return [];
    return this.children(parentId, { relType, dir: 'f', limit: MAX });
  }

  /** The reaction a sender already made with this type and key, if any. */
  annotation(parentId: string, sender: string, type: string, annotationKey: string): Promise<string | undefined> {
    return this.db.get<string>('annotation_event', key(parentId, sender, type, annotationKey));
  }

  /** Thread replies of a room with stream <= upTo, newest first: [stream, root event ID]. */
  async threadActivity(shortRoom: number, upTo: number, limit: number): Promise<Array<{ stream: number; rootId: string }>> {
    const rows = await this.db.range<string>('roomstream_threadroot', {
      gte: key(shortRoom, 0),
      lte: key(shortRoom, Math.min(upTo, MAX)),
      reverse: true,
      limit,
    });
    return rows.map(([k, rootId]) => ({ stream: readU64(k, 8), rootId }));
  }
}

/** Where a child is indexed: by stream, or (backfilled, negative) by depth below the timeline. */
function childKey(c: RelationChild): ['parentrel_child' | 'parentrel_backfillchild', Buffer] {
  return c.stream > 0 ? ['parentrel_child', key(c.parentId, c.relType, c.stream)] : ['parentrel_backfillchild', key(c.parentId, c.relType, -c.stream)];
}

/** `sign` -1: a parentrel_backfillchild key, whose number is the depth (−stream). */
function entryOf(k: Buffer, v: RelationValue, sign: 1 | -1 = 1): RelationEntry {
  // Key: parent ID, SEP, rel type, SEP, 8-byte stream (or depth).
  const parts = splitStrings(k.subarray(0, k.length - 8));
  return {
    eventId: v.eventId,
    relType: parts[1],
    type: v.type,
    sender: v.sender,
    stream: sign * readU64(k, k.length - 8),
    ...(v.key !== undefined ? { key: v.key } : {}),
  };
}
