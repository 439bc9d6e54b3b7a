// Walks a room's timeline in stream order, keeping the events a filter and history
// visibility let through, until enough are found. Shared by /sync timelines,
// /messages and /context. The cursor tells where the walk stopped, so a token built
// from it continues exactly there: no gaps, no repeats.
import type { RoomReader, StoredEvent } from '../rooms/types.js';

export type Dir = 'b' | 'f';

/** Timeline reads with RoomReader.timeline's contract. */
export type TimelineSource = (opts: { after?: number; upTo?: number; dir: Dir; limit: number }) => Promise<StoredEvent[]>;

/** Given a batch in walk order, the events to keep. */
export type Acceptor = (batch: StoredEvent[]) => Promise<StoredEvent[]>;

export interface ScanResult {
  /** Kept events, in walk order. */
  events: StoredEvent[];
  /** Position where the walk stopped: dir b → everything above it was walked; dir f → everything up to it. */
  cursor: number;
  /** True when the window has no events beyond the cursor. */
  exhausted: boolean;
  /** True when some walked event was dropped (by the filter or visibility). */
  dropped: boolean;
}

const MAX_BATCH = 500;

/**
 * Walk the window (after, upTo] in direction `dir`, keeping up to `want` events.
 * `maxScan` bounds the work when a filter matches little: the walk then stops unexhausted.
 */
export async function scanTimeline(
  source: TimelineSource,
  window: { after?: number; upTo: number; dir: Dir },
  accept: Acceptor,
  want: number,
  maxScan = 5000,
): Promise<ScanResult> {
  const lo = window.after ?? 0;
  const hi = window.upTo;
  const out: StoredEvent[] = [];
  let cursor = window.dir === 'b' ? hi : lo;
  let exhausted = false;
  let dropped = false;
  let walked = 0;
  if (hi <= lo) return { events: out, cursor, exhausted: true, dropped };
  while (walked < maxScan) {
    // One more than still needed, so a full page also tells whether more exist.
    const size = Math.min(MAX_BATCH, Math.max(1, want - out.length) + 1);
    const batch =
      window.dir === 'b'
        ? await source({ after: lo, upTo: cursor, dir: 'b', limit: size })
        : await source({ after: cursor, upTo: hi, dir: 'f', limit: size });
    if (batch.length === 0) {
      exhausted = true;
      break;
    }
    const kept = new Set((await accept(batch)).map((e) => e.eventId));
    let stopped = false;
    for (const ev of batch) {
      if (out.length >= want) {
        stopped = true;
        break;
      }
      cursor = window.dir === 'b' ? ev.stream - 1 : ev.stream;
      walked++;
      if (kept.has(ev.eventId)) out.push(ev);
      else dropped = true;
    }
    if (stopped) break;
    if (batch.length < size) {
      exhausted = true;
      break;
    }
    if (out.length >= want) break;
  }
  return { events: out, cursor, exhausted, dropped };
}

/** A TimelineSource over the reader. */
export function readerSource(reader: Pick<RoomReader, 'timeline'>, roomId: string): TimelineSource {
  return (opts) => reader.timeline(roomId, opts);
}

/** A TimelineSource over events already loaded (ascending, complete for the windows asked). */
export function preloadedSource(events: StoredEvent[]): TimelineSource {
  return async ({ after = 0, upTo = Infinity, dir, limit }) => {
    const inWindow = events.filter((e) => e.stream > after && e.stream <= upTo);
    return dir === 'f' ? inWindow.slice(0, limit) : inWindow.slice(-limit).reverse();
  };
}
