// Older history of a room from the other servers in it (backfill, as a client): when
// /messages dir=b reaches the earliest event we have and that event's prev events are
// unknown here, ask a server of the room for the events before them and take them in
// through RemoteIngest.ingestBackfill (checked like any PDU, placed below the timeline).
// Spec: server-server-api.md "Backfilling and retrieving missing events"; backfill.yaml.
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { HistoryBackfill } from '../../sync/pagination.js';
import type { RoomReader } from '../../rooms/types.js';

/** Events asked for per request (Synapse asks for 100). */
export const BACKFILL_LIMIT = 100;
/** Servers tried per fill before giving up for now. */
const MAX_SERVERS = 5;
/** How many of the room's earliest events are looked at for unknown prev events. */
const FRONTIER_SCAN = 20;
/** After a fill found nothing, the same frontier is not asked about again for this long. */
export const RETRY_AFTER_MS = 30_000;
const REQUEST_TIMEOUT_MS = 30_000;
const BOTTOM = -Number.MAX_SAFE_INTEGER;

export interface BackfillerDeps {
  reader: Pick<RoomReader, 'timeline' | 'getEvents'>;
  client: FederationRequester;
  ingest: { ingestBackfill(origin: string, roomId: string, pdus: unknown[]): Promise<number> };
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
    const prev = this.running.get(roomId);
    const next = (prev ?? Promise.resolve(false)).then(() => this.fillNow(roomId, want));
    this.running.set(roomId, next);
    void next.finally(() => {
      if (this.running.get(roomId) === next) this.running.delete(roomId);
    });
    return next;
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
    const frontier = await this.frontier(roomId);
    if (frontier.length === 0) return false; // the room's beginning (the create event) is here
    const key = [...frontier].sort().join(',');
    const failed = this.fruitless.get(roomId);
    if (failed && failed.frontier === key && this.now() - failed.at < RETRY_AFTER_MS) return false;
    const limit = Math.min(Math.max(want, 1) * 2, BACKFILL_LIMIT);
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
      const placed = await this.d.ingest.ingestBackfill(server, roomId, pdus);
      if (placed > 0) {
        this.fruitless.delete(roomId);
        return true;
      }
    }
    this.fruitless.set(roomId, { frontier: key, at: this.now() });
    return false;
  }
}
