// Completing rooms joined with partial state (MSC3706 "faster joins", Synapse's
// _resync_state_for_partial_state_room): send_join answered without most member events,
// so in the background we fetch the full state before our join — state_ids, then /state
// when much is missing (else /event one by one) — from the servers in the room, trying
// the next on failure. Every event is checked like any fetched PDU (signatures, content
// hash, auth against its own auth events; forged ones are dropped, unauthorised ones
// rejected), stored as an outlier, and the entries the room's current state lacks are
// added to it. The events accepted meanwhile (judged by their auth events alone) are then
// checked against the full state before them, and rejected if it does not allow them
// (Synapse's update_state_for_partial_state_event). Then the room is marked complete (at a stream position of its own, so /sync
// sends it as newly joined) and whoever waits for the full state (member lists) is woken.
// Rooms still partial at startup are resumed.
// Spec: server-server-api.md "Joining Rooms" (joins-v2.yaml omit_members, servers_in_room),
// "Retrieving events" (/state_ids, /state, /event).
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import { RemoteFetcher } from '../ingest/remoteFetcher.js';
import type { RemoteIngest } from '../ingest/remoteIngest.js';
import type { PartialStateRooms } from '../../rooms/partialStateRooms.js';
import type { StoredRoomReader } from '../../rooms/roomReader.js';
import type { RoomWriter } from '../../rooms/roomWriter.js';
import type { EventRecord } from '../../storage/eventsRepo.js';
import type { PartialStateRecord } from '../../storage/partialStateRepo.js';
import type { PartialJoins } from './remoteJoiner.js';

export interface PartialStateResyncDeps {
  serverName: string;
  rooms: PartialStateRooms;
  reader: Pick<StoredRoomReader, 'getEvent' | 'getEvents' | 'forgetStateGroups'>;
  writer: Pick<RoomWriter, 'remote'>;
  ingest: Pick<RemoteIngest, 'ingestFetchedState' | 'recheckAfterResync'>;
  requester: FederationRequester;
  /** The stream position taken when a room completes (/sync then sends it as newly joined). */
  counter: { next(): number; finish(pos: number): void };
  /** Told, before `pos` is finished, that the room is complete at `pos` (e.g. to wake its members' /sync). */
  onCompleted?: (roomId: string, pos: number) => Promise<void>;
  /** First wait before retrying when no server could help; doubles up to RETRY_MAX_MS. */
  retryDelayMs?: number;
  onWarning?: (msg: string, extra?: Record<string, unknown>) => void;
  onInfo?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** Above this many missing events, one /state request beats /event per event (Synapse uses a ratio too). */
const EVENT_FETCH_MAX = 50;
const FETCH_CONCURRENCY = 10;
const RETRY_MAX_MS = 5 * 60_000;

const enc = encodeURIComponent;

export class PartialStateResync implements PartialJoins {
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly fetcher: RemoteFetcher;
  private stopped = false;

  constructor(private readonly deps: PartialStateResyncDeps) {
    this.fetcher = new RemoteFetcher(deps.requester);
  }

  // ── the joiner's side (remoteJoiner.ts) ─────────────────────────────────────

  begin(roomId: string, rec: PartialStateRecord): Promise<void> {
    return this.deps.rooms.mark(roomId, rec);
  }

  joined(roomId: string): void {
    this.start(roomId);
  }

  abandon(roomId: string): Promise<void> {
    return this.deps.rooms.clear(roomId);
  }

  // ── running ───────────────────────────────────────────────────────────────

  /** Resume the resync of every room still partial (startup). */
  resumeAll(): void {
    for (const [roomId] of this.deps.rooms.list()) this.start(roomId);
  }

  /** Resolves when the room's resync has finished or given up for now (tests, shutdown). */
  async settled(roomId: string): Promise<void> {
    await this.running.get(roomId);
  }

  /** No new attempts; waits for the ones under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.running.values()]);
    this.deps.rooms.releaseAll();
  }

  private start(roomId: string, attempt = 0): void {
    if (this.stopped || this.running.has(roomId)) return;
    const run = this.resync(roomId)
      .then((done) => {
        if (!done) this.retryLater(roomId, attempt);
      })
      .catch((err: unknown) => {
        this.deps.onWarning?.('partial-state resync failed', { roomId, err: String(err) });
        this.retryLater(roomId, attempt);
      })
      .finally(() => this.running.delete(roomId));
    this.running.set(roomId, run);
  }

  private retryLater(roomId: string, attempt: number): void {
    if (this.stopped || !this.deps.rooms.isPartial(roomId)) return;
    const delay = Math.min((this.deps.retryDelayMs ?? 5_000) * 2 ** attempt, RETRY_MAX_MS);
    const t = setTimeout(() => {
      this.timers.delete(roomId);
      this.start(roomId, attempt + 1);
    }, delay);
    t.unref();
    this.timers.set(roomId, t);
  }

  /** One pass over the room's servers; true when the room is complete (or no longer partial). */
  private async resync(roomId: string): Promise<boolean> {
    const rec = this.deps.rooms.get(roomId);
    if (!rec) return true;
    const rules = roomVersion(rec.roomVersion);
    const join = await this.deps.reader.getEvent(rec.joinEventId);
    if (!rules || !join || join.outlier || join.rejected !== undefined) {
      // The process stopped between marking the room and storing the join: there is no partial room.
      this.deps.onWarning?.('dropping the partial-state marker of a room whose join is not stored', { roomId });
      await this.deps.rooms.clear(roomId);
      return true;
    }
    const servers = [...new Set(rec.serversInRoom)].filter((s) => s !== this.deps.serverName);
    for (const server of servers) {
      if (this.stopped) return false;
      try {
        const t0 = Date.now();
        const cpu0 = process.cpuUsage();
        const { added, rejected } = await this.syncFrom(server, roomId, rules, rec.joinEventId);
        const cpu = process.cpuUsage(cpu0);
        this.deps.onInfo?.('partial-state room completed', { roomId, server, added, rejected, ms: Date.now() - t0, processCpuMs: Math.round((cpu.user + cpu.system) / 1000) });
        return true;
      } catch (err) {
        this.deps.onWarning?.('partial-state resync from a server failed; trying the next', { roomId, server, err: String(err) });
      }
    }
    return false;
  }

  /**
   * Fetch, check and store the full state before our join as `server` has it, judge again the
   * events accepted since, and mark the room complete; returns the entries added and the
   * events rejected.
   */
  private async syncFrom(server: string, roomId: string, rules: RoomVersionRules, joinEventId: string): Promise<{ added: number; rejected: number }> {
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    const { pduIds, authChainIds } = await this.fetcher.stateIds(server, roomId, joinEventId);
    const wanted = [...new Set([...pduIds, ...authChainIds])];
    let missing = await this.unknown(wanted);
    if (missing.length > EVENT_FETCH_MAX) {
      const t1 = Date.now();
      const raws = await this.fetchState(server, roomId, joinEventId);
      if (this.stopped) throw new Error('shutting down');
      const t2 = Date.now();
      await this.deps.ingest.ingestFetchedState(roomId, rules, server, raws, new Set(missing));
      const cpu = process.cpuUsage(cpu0);
      this.deps.onInfo?.('partial-state resync: fetched and stored the state', { roomId, server, events: raws.length, stateIdsMs: t1 - t0, fetchMs: t2 - t1, storeMs: Date.now() - t2, processCpuMs: Math.round((cpu.user + cpu.system) / 1000) });
      missing = await this.unknown(missing);
    }
    for (let i = 0; i < missing.length; i += FETCH_CONCURRENCY) {
      const got = await Promise.all(missing.slice(i, i + FETCH_CONCURRENCY).map((id) => this.fetcher.event(server, id)));
      await this.deps.ingest.ingestFetchedState(roomId, rules, server, got.filter((x) => x !== undefined), new Set(missing));
    }
    try {
      return await this.deps.writer.remote(roomId, rules, undefined, async (s) => {
        const [join, ...state] = await s.events([joinEventId, ...pduIds]);
        const absent = pduIds.filter((_, i) => state[i] === undefined);
        if (absent.length > 0) throw new Error(`${absent.length} state events could not be retrieved or verified (first: ${absent[0]})`);
        if (!join || join.outlier) throw new Error('our join is not placed in the room');
        const added = await s.addMissingState(state as EventRecord[], join.groupBefore);
        const rejected = await this.deps.ingest.recheckAfterResync(s, join.stream);
        if (rejected.length > 0) this.deps.onWarning?.('events accepted during partial state are rejected against the full state', { roomId, rejected });
        this.deps.reader.forgetStateGroups();
        // Still in the room's queue: no event of the room is judged between the re-check and the end of partial state.
        await this.complete(roomId);
        return { added, rejected: rejected.length };
      });
    } finally {
      this.deps.reader.forgetStateGroups();
    }
  }

  /** The room has its full state, at a stream position of its own (/sync then sends it as newly joined). */
  private async complete(roomId: string): Promise<void> {
    const pos = this.deps.counter.next();
    try {
      await this.deps.rooms.complete(roomId, pos);
      await this.deps.onCompleted?.(roomId, pos).catch((err: unknown) => this.deps.onWarning?.('after completing a partial-state room', { roomId, err: String(err) }));
    } finally {
      this.deps.counter.finish(pos);
    }
  }

  private async unknown(ids: string[]): Promise<string[]> {
    const have = await this.deps.reader.getEvents(ids);
    return ids.filter((_, i) => have[i] === undefined);
  }

  /** GET /state: the state PDUs before the event and their auth chain. */
  private async fetchState(server: string, roomId: string, eventId: string): Promise<unknown[]> {
    const res = await this.deps.requester.request<{ pdus?: unknown; auth_chain?: unknown }>({
      destination: server,
      method: 'GET',
      path: `/_matrix/federation/v1/state/${enc(roomId)}?event_id=${enc(eventId)}`,
    });
    if (!res.ok) throw new Error(`state from ${server} failed: ${res.error}`);
    const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
    return [...list(res.body.pdus), ...list(res.body.auth_chain)];
  }
}
