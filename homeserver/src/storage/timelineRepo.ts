// The order of room events: per room (short room · stream) and across all rooms
// (stream), both pointing at short event IDs.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, readU64 } from './keys.js';

const MAX_STREAM = Number.MAX_SAFE_INTEGER;

export class TimelineRepo {
  constructor(private readonly db: Database) {}

  append(batch: Batch, shortRoom: number, stream: number, shortEvent: number): void {
    batch.add(
      this.db.put('roomstream_event', key(shortRoom, stream), shortEvent),
      this.db.put('stream_roomevent', key(stream), [shortRoom, shortEvent]),
    );
  }

  /** Short events of one room with `after < stream <= upTo`, in the given direction. */
  async roomRange(
    shortRoom: number,
    opts: { after?: number; upTo?: number; dir: 'f' | 'b'; limit: number },
  ): Promise<number[]> {
    if (opts.limit <= 0) return [];
    const rows = await this.db.range<number>('roomstream_event', {
      gt: key(shortRoom, opts.after ?? 0),
      lte: key(shortRoom, Math.min(opts.upTo ?? MAX_STREAM, MAX_STREAM)),
      reverse: opts.dir === 'b',
      limit: opts.limit,
    });
    return rows.map(([, v]) => v);
  }

  /** The room's last event at or before stream position `at`, with its position. */
  async lastAtOrBefore(shortRoom: number, at: number): Promise<{ stream: number; shortEvent: number } | undefined> {
    const [row] = await this.db.range<number>('roomstream_event', {
      gte: key(shortRoom, 0),
      lte: key(shortRoom, at),
      reverse: true,
      limit: 1,
    });
    return row ? { stream: readU64(row[0], 8), shortEvent: row[1] } : undefined;
  }

  /** Room events of every room with `after < stream <= upTo`, ascending. */
  async globalRange(after: number, upTo: number, limit: number): Promise<Array<{ stream: number; shortRoom: number; shortEvent: number }>> {
    if (limit <= 0 || upTo <= after) return [];
    const rows = await this.db.range<[number, number]>('stream_roomevent', { gt: key(after), lte: key(upTo), limit });
    return rows.map(([k, [shortRoom, shortEvent]]) => ({ stream: readU64(k), shortRoom, shortEvent }));
  }
}
