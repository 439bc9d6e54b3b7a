// Older history of a room from the other servers in it (backfill, as a client): when
// /messages dir=b reaches the earliest event we have and that event's prev events are
// unknown here, ask a server of the room for the events before them and take them in
// through RemoteIngest.ingestBackfill (checked like any PDU, placed below the timeline).
// Holes in the middle of the history (a remote event placed although its prev events could
// not be fetched: a gap, storage/timelineRepo.ts) are filled the same way when a page walks
// across them, into positions reserved below that event (Synapse: backfill points).
// Spec: server-server-api.md "Backfilling and retrieving missing events"; backfill.yaml.
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { HistoryBackfill } from '../../sync/pagination.js';
import type { RoomReader } from '../../rooms/types.js';
import type { RoomStorage } from '../../storage/roomStorage.js';
import type { TimelineGap } from '../../storage/timelineRepo.js';

/** Events asked for per request (Synapse asks for 100). */
export const BACKFILL_LIMIT = 100;
/** Servers tried per fill before giving up for now. */
const MAX_SERVERS = 5;
/** How many of the room's earliest events are looked at for unknown prev events. */
const FRONTIER_SCAN = 20;
/** Gaps filled per page at most. */
const MAX_GAPS = 3;
/** After a fill found nothing, the same frontier is not asked about again for this long. */
export const RETRY_AFTER_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
const BOTTOM = -Number.MAX_SAFE_INTEGER;

export interface BackfillerDeps {
  reader: Pick<RoomReader, 'timeline' | 'getEvents'>;
  client: FederationRequester;
  ingest: { ingestBackfill(origin: string, roomId: string, pdus: unknown[], gapAt?: number): Promise<number> };
  /** History was placed below the timeline or into a gap (in the room's order, not in the
   *  stream, so the search indexer's stream cursor never sees it): the search index takes it. */
  onHistoryPlaced?: () => void;
  /** The room's gaps below events in (after, upTo], newest first (storedGaps); absent: gaps are not filled. */
  gaps?: (roomId: string, after: number, upTo: number) => Promise<Array<{ stream: number; gap: TimelineGap }>>;
  /** Other servers with a joined member, best first. */
  servers(roomId: string): Promise<string[]>;
  now?: () => number;
  onWarning?: (msg: string, extra: Record<string, unknown>) => void;
}

export class FederationBackfiller implements HistoryBackfill {
  /** One fill per room at a time: the next caller waits and then sees what it brought. */
  private readonly running = new Map<string, Promise<boolean>>();
  /** roomId → frontier that brought nothing, and when. */
  private readonly fruitless = new Map<string, { frontier: string; at: number }>();
  private readonly now: () => number;

  constructor(private readonly d: BackfillerDeps) {
    this.now = d.now ?? Date.now;
  }

  fill(roomId: string, want: number): Promise<boolean> {
    return this.serialized(roomId, () => this.fillNow(roomId, want));
  }

  private serialized(roomId: string, task: () => Promise<boolean>): Promise<boolean> {
    const prev = this.running.get(roomId);
    const next = (prev ?? Promise.resolve(false)).then(task, task);
    this.running.set(roomId, next);
    void next.finally(() => {
      if (this.running.get(roomId) === next) this.running.delete(roomId);
    });
    return next;
  }

  /**
   * Fill the gaps below events in (after, upTo] (a /messages page walked across them), newest
   * first. True when events were added.
   */
  fillGaps(roomId: string, after: number, upTo: number, want: number): Promise<boolean> {
    const gaps = this.d.gaps;
    if (gaps === undefined) return Promise.resolve(false);
    const fillable = async (a: number, u: number) => (await gaps(roomId, a, u)).filter(({ gap }) => gap.high >= gap.low && gap.missing.length > 0);
    // Checked before queueing behind a fill in progress: most pages cross no gap.
    return fillable(after, upTo).then((seen) => {
      if (seen.length === 0) return false;
      return this.serialized(roomId, () => this.fillSeenGaps(roomId, seen.map((g) => g.stream), fillable, want));
    });
  }

  private async fillSeenGaps(
    roomId: string,
    streams: number[],
    fillable: (after: number, upTo: number) => Promise<Array<{ stream: number; gap: TimelineGap }>>,
    want: number,
  ): Promise<boolean> {
    let added = false;
    for (const at of streams) {
      // Read again: a fill that ran meanwhile may have changed or closed it.
      const [current] = await fillable(at - 1, at);
      if (current === undefined) continue;
      const { stream, gap } = current;
      const free = gap.high - gap.low + 1;
      const limit = Math.min(Math.max(want, 1) * 2, BACKFILL_LIMIT, free);
      if (!(await this.fetchInto(roomId, `gap ${stream}`, gap.missing, limit, stream))) continue;
      added = true;
      this.d.onHistoryPlaced?.();
    }
    return added;
  }

  /** Prev events of the room's earliest events that have no place here (unknown, or outliers). */
  async frontier(roomId: string): Promise<string[]> {
    const earliest = await this.d.reader.timeline(roomId, { after: BOTTOM, dir: 'f', limit: FRONTIER_SCAN });
    const ids = new Set(earliest.map((e) => e.eventId));
    const prevs = [...new Set(earliest.flatMap((e) => e.pdu.prev_events))].filter((id) => !ids.has(id));
    const known = await this.d.reader.getEvents(prevs);
    return prevs.filter((_, i) => known[i] === undefined || known[i]!.outlier === true);
  }

  private async fillNow(roomId: string, want: number): Promise<boolean> {
    // What a gap misses belongs in the gap (fillGaps), not below the timeline.
    const inGaps = new Set((await (this.d.gaps?.(roomId, 0, Number.MAX_SAFE_INTEGER) ?? [])).flatMap((g) => g.gap.missing));
    const [lowest] = await this.d.reader.timeline(roomId, { after: BOTTOM, dir: 'f', limit: 1 });
    const frontier = (await this.frontier(roomId)).filter((id) => !inGaps.has(id));
    if (frontier.length === 0 || lowest === undefined) return false; // the room's beginning (the create event) is here
    const added = await this.fetchInto(roomId, 'bottom', frontier, Math.min(Math.max(want, 1) * 2, BACKFILL_LIMIT));
    if (added) this.d.onHistoryPlaced?.();
    return added;
  }

  /** Ask the room's servers for the events before `frontier`; placed below the timeline, or into the gap at `gapAt`. */
  private async fetchInto(roomId: string, where: string, frontier: string[], limit: number, gapAt?: number): Promise<boolean> {
    const key = `${where}:${[...frontier].sort().join(',')}`;
    const failed = this.fruitless.get(roomId);
    if (failed && failed.frontier === key && this.now() - failed.at < RETRY_AFTER_MS) return false;
    const query = [...frontier.map((id) => `v=${encodeURIComponent(id)}`), `limit=${limit}`].join('&');
    for (const server of (await this.d.servers(roomId)).slice(0, MAX_SERVERS)) {
      const res = await this.d.client
        .request<{ pdus?: unknown }>({
          destination: server,
          method: 'GET',
          path: `/_matrix/federation/v1/backfill/${encodeURIComponent(roomId)}?${query}`,
          timeoutMs: REQUEST_TIMEOUT_MS,
        })
        .catch((err: unknown) => ({ ok: false as const, status: 0, errcode: 'PARLEY_ERROR', error: String(err) }));
      if (!res.ok) {
        this.d.onWarning?.('backfill request failed', { roomId, server, status: res.status, errcode: res.errcode });
        continue;
      }
      const pdus = res.body?.pdus;
      if (!Array.isArray(pdus) || pdus.length === 0) continue;
      const placed = await this.d.ingest.ingestBackfill(server, roomId, pdus, gapAt);
      if (placed > 0) {
        this.fruitless.delete(roomId);
        return true;
      }
    }
    this.fruitless.set(roomId, { frontier: key, at: this.now() });
    return false;
  }
}

/** BackfillerDeps.gaps over the room storage. */
export function storedGaps(storage: Pick<RoomStorage, 'ids' | 'timeline'>): NonNullable<BackfillerDeps['gaps']> {
  return async (roomId, after, upTo) => {
    const shortRoom = await storage.ids.room(roomId);
    return shortRoom === undefined ? [] : storage.timeline.gaps(shortRoom, after, upTo, MAX_GAPS);
  };
}
