// The order of room events: per room (short room · stream) and across all rooms
// (stream), both pointing at short event IDs. History fetched from other servers
// (backfill) sits before a room's first event at negative positions, kept in their own
// keyspace (keys are unsigned) and merged into per-room reads whose window reaches below 0.
// History missing in the middle (a remote event whose prev events could not be fetched)
// is a gap: positions reserved below that event, filled later by backfill (roomstream_gap).
import type { Batch } from './batch.js';
import type { BatchOp, Database } from './db.js';
import { key, readU64 } from './keys.js';
import { StreamTail } from './streamTail.js';

const MAX_STREAM = Number.MAX_SAFE_INTEGER;
/** Gaps read per walk at most (they are rare: one per hole a partition left). */
const GAP_SCAN = 64;

/** A hole in a room's history right below the event at `stream` (schema.ts roomstream_gap). */
export interface TimelineGap {
  /** Prev events of the history above the hole that this server does not have placed. */
  missing: string[];
  /** The positions still free for the hole's events: [low, high], filled from the top down. */
  low: number;
  high: number;
}

export class TimelineRepo {
  /** The newest rows of the global order (see streamTail.ts). */
  private readonly tail: StreamTail;

  constructor(
    private readonly db: Database,
    tailCapacity?: number,
  ) {
    this.tail = new StreamTail(tailCapacity);
  }

  append(batch: Batch, shortRoom: number, stream: number, shortEvent: number): void {
    batch.add(
      this.db.put('roomstream_event', key(shortRoom, stream), shortEvent),
      this.db.put('stream_roomevent', key(stream), [shortRoom, shortEvent]),
    );
    batch.afterCommit(() => this.tail.add({ stream, shortRoom, shortEvent }));
  }

  /** Take an event out of the room's timeline and the global order (it was rejected after all). */
  remove(batch: Batch, shortRoom: number, stream: number): void {
    batch.add(this.db.del('roomstream_event', key(shortRoom, stream)), this.db.del('stream_roomevent', key(stream)));
    batch.afterCommit(() => this.tail.remove(stream));
  }

  /** The room's rows are being deleted from the global order (storage/roomPurge.ts). */
  forgetRoom(shortRoom: number): void {
    this.tail.removeRoom(shortRoom);
  }

  /** Store a backfilled event at position `stream` (< 0); it takes no place in the global order. */
  appendBackfill(batch: Batch, shortRoom: number, stream: number, shortEvent: number, eventId: string): void {
    if (!(stream < 0)) throw new Error('a backfilled event needs a negative position');
    batch.add(this.db.put('roombackfill_event', key(shortRoom, -stream), shortEvent), this.historyToIndex(eventId));
  }

  /**
   * Store an event fetched into a gap at a reserved position `stream` (> 0): in the room's
   * order only, never in the global one (incremental /sync and the stream followers skip it).
   */
  appendInGap(batch: Batch, shortRoom: number, stream: number, shortEvent: number, eventId: string): void {
    if (!(stream > 0)) throw new Error('an event placed in a gap needs a reserved positive position');
    batch.add(this.db.put('roomstream_event', key(shortRoom, stream), shortEvent), this.historyToIndex(eventId));
  }

  /** History outside the global order is indexed for search from this mark (storage/searchRepo.ts). */
  private historyToIndex(eventId: string): BatchOp {
    return this.db.put('historyevent_unindexed', key(eventId), 1);
  }

  /** Record (or update) the gap below the room's event at `stream`. */
  putGap(batch: Batch, shortRoom: number, stream: number, gap: TimelineGap): void {
    batch.add(this.db.put('roomstream_gap', key(shortRoom, stream), gap));
  }

  getGap(shortRoom: number, stream: number): Promise<TimelineGap | undefined> {
    return this.db.get<TimelineGap>('roomstream_gap', key(shortRoom, stream));
  }

  deleteGap(batch: Batch, shortRoom: number, stream: number): void {
    batch.add(this.db.del('roomstream_gap', key(shortRoom, stream)));
  }

  /**
   * The room's gaps that a walk over positions (after, upTo] crosses, newest first: a gap spans
   * its free positions and its event, [low, stream] (as it is filled from the top, the hole
   * that is left sits at its free positions, below what was placed).
   */
  async gaps(shortRoom: number, after: number, upTo: number, limit: number): Promise<Array<{ stream: number; gap: TimelineGap }>> {
    if (upTo <= 0 || upTo <= after || limit <= 0) return [];
    // Gaps are disjoint and keyed above their positions: ascending from `after`, the first ones.
    const rows = await this.db.range<TimelineGap>('roomstream_gap', { gt: key(shortRoom, Math.max(after, 0)), lte: key(shortRoom, MAX_STREAM), limit: GAP_SCAN });
    return rows
      .map(([k, gap]) => ({ stream: readU64(k, 8), gap }))
      .filter(({ gap }) => gap.low <= upTo)
      .reverse()
      .slice(0, limit);
  }

  /** The lowest backfilled position of the room (0 when nothing was backfilled). */
  async lowestBackfill(shortRoom: number): Promise<number> {
    const [row] = await this.db.range<number>('roombackfill_event', { gte: key(shortRoom, 0), lte: key(shortRoom, MAX_STREAM), reverse: true, limit: 1 });
    return row ? -readU64(row[0], 8) : 0;
  }

  /** Short events of one room with `after < stream <= upTo`, in the given direction (negative positions are backfill). */
  async roomRange(
    shortRoom: number,
    opts: { after?: number; upTo?: number; dir: 'f' | 'b'; limit: number },
  ): Promise<number[]> {
    if (opts.limit <= 0) return [];
    const after = opts.after ?? 0;
    const upTo = Math.min(opts.upTo ?? MAX_STREAM, MAX_STREAM);
    const positive = async (limit: number) =>
      upTo <= 0 || limit <= 0
        ? []
        : (
            await this.db.range<number>('roomstream_event', {
              gt: key(shortRoom, Math.max(after, 0)),
              lte: key(shortRoom, upTo),
              reverse: opts.dir === 'b',
              limit,
            })
          ).map(([, v]) => v);
    // Position p < 0 is stored under depth −p: (after, upTo] ∩ (−∞, 0) is depth in [max(1, −upTo), −after).
    const negative = async (limit: number) =>
      after >= 0 || limit <= 0 || Math.max(1, -upTo) >= -after
        ? []
        : (
            await this.db.range<number>('roombackfill_event', {
              gte: key(shortRoom, Math.max(1, -upTo)),
              lt: key(shortRoom, Math.min(-after, MAX_STREAM)),
              reverse: opts.dir === 'f',
              limit,
            })
          ).map(([, v]) => v);
    if (opts.dir === 'b') {
      const first = await positive(opts.limit);
      return [...first, ...(await negative(opts.limit - first.length))];
    }
    const first = await negative(opts.limit);
    return [...first, ...(await positive(opts.limit - first.length))];
  }

  /** The room's last event at or before stream position `at`, with its position (backfilled ones included). */
  async lastAtOrBefore(shortRoom: number, at: number): Promise<{ stream: number; shortEvent: number } | undefined> {
    if (at >= 0) {
      const [row] = await this.db.range<number>('roomstream_event', {
        gte: key(shortRoom, 0),
        lte: key(shortRoom, at),
        reverse: true,
        limit: 1,
      });
      if (row) return { stream: readU64(row[0], 8), shortEvent: row[1] };
    }
    const [back] = await this.db.range<number>('roombackfill_event', {
      gte: key(shortRoom, Math.max(1, -at)),
      lte: key(shortRoom, MAX_STREAM),
      limit: 1,
    });
    return back ? { stream: -readU64(back[0], 8), shortEvent: back[1] } : undefined;
  }

  /** Room events of every room with `after < stream <= upTo`, ascending. */
  async globalRange(after: number, upTo: number, limit: number): Promise<Array<{ stream: number; shortRoom: number; shortEvent: number }>> {
    if (limit <= 0 || upTo <= after) return [];
    const recent = this.tail.range(after, upTo, limit);
    if (recent) return recent;
    const rows = await this.db.range<[number, number]>('stream_roomevent', { gt: key(after), lte: key(upTo), limit });
    return rows.map(([k, [shortRoom, shortEvent]]) => ({ stream: readU64(k), shortRoom, shortEvent }));
  }
}
