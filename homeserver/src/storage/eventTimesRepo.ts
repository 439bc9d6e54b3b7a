// Room events by origin_server_ts, for /timestamp_to_event. Layout: schema.ts roomts_event.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key } from './keys.js';

const MAX = Number.MAX_SAFE_INTEGER;

export class EventTimesRepo {
  constructor(private readonly db: Database) {}

  stage(batch: Batch, shortRoom: number, ts: number, stream: number, shortEvent: number): void {
    // Timestamps come from the sending server: clamp into the key's range.
    // Backfilled events (negative positions) sort first among equal timestamps, kept apart by short ID.
    const k = stream > 0 ? key(shortRoom, clamp(ts), stream) : key(shortRoom, clamp(ts), 0, shortEvent);
    batch.add(this.db.put('roomts_event', k, shortEvent));
  }

  /**
   * Short events of the room nearest to `ts`: dir 'f' → at or after it, oldest first;
   * dir 'b' → at or before it, newest first.
   */
  async near(shortRoom: number, ts: number, dir: 'f' | 'b', limit: number): Promise<number[]> {
    const t = clamp(ts);
    const rows =
      dir === 'f'
        ? await this.db.range<number>('roomts_event', { gte: key(shortRoom, t, 0), lte: key(shortRoom, MAX, MAX), limit })
        : await this.db.range<number>('roomts_event', { gte: key(shortRoom, 0, 0), lte: key(shortRoom, t, MAX), reverse: true, limit });
    return rows.map(([, v]) => v);
  }
}

function clamp(ts: number): number {
  return Number.isSafeInteger(ts) && ts > 0 ? ts : 0;
}
