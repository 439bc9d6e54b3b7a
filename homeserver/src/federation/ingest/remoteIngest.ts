// Taking events from other servers into our rooms' graphs.
// Every PDU goes through the checks on receipt, in the spec's order: format (dropped),
// signatures (dropped), content hash (redacted), auth against its auth_events
// (rejected), auth against the state before it (rejected), auth against the current
// state (soft-failed). Holes in the graph are filled first: get_missing_events from the
// sender, else the state at each missing prev event (state_ids, then /event for what we
// lack, kept as outliers). Each PDU of a transaction gets a result; rooms are processed
// concurrently, the PDUs of one room in order: runs of PDUs with nothing to fetch are
// written as one durable batch (one fsync per transaction, not per PDU), while the
// signature checks of the later PDUs still run on the thread pool.
// Spec: server-server-api.md "Checks performed on receipt of a PDU", "Rejection",
// "Soft failure", "Backfilling and retrieving missing events", "Retrieving events",
// "Server Access Control Lists (ACLs)", "Room State Resolution".
import { authEventTypesFor, checkAuthEvents, checkEventAuth, stateFromEvents } from '@parley/federation/core/auth/index';
import type { AuthOptions } from '@parley/federation/core/auth/index';
import { toWire } from '@parley/federation/core/eventRefs';
import { serverNameOf } from '@parley/federation/core/ids';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { serverAllowedByAcl } from '@parley/federation/core/serverAcl';
import { stateKeyOf, type Pdu, type RoomEvent, type StateKey } from '@parley/federation/core/types';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { RemoteSession, StateBefore } from '../../rooms/remoteSession.js';
import type { RoomWriter } from '../../rooms/roomWriter.js';
import type { StoredRoomReader } from '../../rooms/roomReader.js';
import type { StoredEvent } from '../../rooms/types.js';
import type { Batch } from '../../storage/batch.js';
import { parsePdu, signedByFor, verifyPdu, type SignatureChecker, type VerifiedPdu } from './receivedPdu.js';
import { RemoteFetchError, RemoteFetcher } from './remoteFetcher.js';

export type PduResult = { error?: string };

/**
 * Writes to make durable with a transaction's last PDUs (its /send answer: one write, and
 * never an answer without what it acknowledges). `stage` is called at most once, with every
 * PDU's result, when a group write is the transaction's last; `failed` when a PDU could not be
 * processed (an unexpected error, such as a failed write): its answer must not be kept.
 */
export interface LastWrite {
  stage(results: ReadonlyMap<string, PduResult>, batch: Batch): void;
  failed(): void;
}

/** One transaction's PDUs in progress: results set once durable (or final), the event IDs expected. */
interface TxnProgress {
  results: Map<string, PduResult>;
  expected: Set<string>;
  last: LastWrite | undefined;
}

export interface RemoteIngestDeps {
  serverName: string;
  reader: Pick<StoredRoomReader, 'roomVersion' | 'getEvent' | 'getEvents' | 'currentStateEvent' | 'forwardExtremities' | 'timeline'>;
  writer: Pick<RoomWriter, 'remote'>;
  keys: SignatureChecker;
  requester: FederationRequester;
  onWarning?: (msg: string, extra?: Record<string, unknown>) => void;
  /** Rooms joined with partial state (MSC3706): their events are judged by their auth events only. */
  partialState?: { isPartial(roomId: string): boolean };
  /** A PDU of /send that could not be taken in because its holes could not be filled for now (origin unreachable). */
  keepForLater?: (origin: string, eventId: string, pdu: unknown) => Promise<void>;
}

/** get_missing_events asks for at most this many events (as Synapse). */
const MISSING_EVENTS_LIMIT = 10;
/** Parallel /event fetches when filling the state at a gap. */
const FETCH_CONCURRENCY = 10;
/** Fetched state events stored per batch (partial-state resync). */
const OUTLIER_SLICE = 5_000;

interface HandleOptions {
  /** Events that came from get_missing_events fill their own holes with state_ids only. */
  allowMissingEvents: boolean;
}

export class RemoteIngest {
  private readonly fetcher: RemoteFetcher;

  constructor(private readonly deps: RemoteIngestDeps) {
    this.fetcher = new RemoteFetcher(deps.requester);
  }

  /** The PDUs of a /send transaction from `origin`: a result per event ID. */
  async ingestPdus(origin: string, pdus: unknown[], last?: LastWrite): Promise<Map<string, PduResult>> {
    const results = new Map<string, PduResult>();
    const byRoom = new Map<string, { rules: RoomVersionRules; events: RoomEvent[] }>();
    for (const raw of pdus) {
      const roomId = isObject(raw) && typeof raw.room_id === 'string' ? raw.room_id : undefined;
      const version = roomId === undefined ? undefined : await this.deps.reader.roomVersion(roomId);
      const rules = version === undefined ? undefined : roomVersion(version);
      if (!rules || roomId === undefined) {
        // Without the room's version the event has no ID to answer under (Synapse ignores these too).
        this.deps.onWarning?.('ignoring PDU for a room this server does not know', { origin, roomId });
        continue;
      }
      const parsed = parsePdu(raw, rules);
      if (!parsed.ok) {
        if (parsed.eventId) results.set(parsed.eventId, { error: parsed.error });
        else this.deps.onWarning?.('ignoring PDU without a computable event ID', { origin, error: parsed.error });
        continue;
      }
      let group = byRoom.get(parsed.event.roomId);
      if (!group) byRoom.set(parsed.event.roomId, (group = { rules, events: [] }));
      group.events.push(parsed.event);
    }
    const txn: TxnProgress = { results, expected: new Set([...results.keys(), ...[...byRoom.values()].flatMap((g) => g.events.map((e) => e.eventId))]), last };
    await Promise.all([...byRoom].map(([roomId, g]) => this.ingestRoom(origin, roomId, g.rules, g.events, txn)));
    return results;
  }

  /**
   * After send_join: persist the room's state and auth chain as outliers, then the join with
   * that state as its state before. The room is known locally from then on.
   */
  async ingestJoinedRoom(version: string, joinEvent: Pdu, state: Pdu[], authChain: Pdu[], origin: string): Promise<StoredEvent> {
    const rules = roomVersion(version);
    if (!rules) throw new Error(`unsupported room version ${version}`);
    const join = await this.prepareOne(joinEvent, rules);
    if (!join.ok) throw new Error(`invalid join event: ${join.error}`);
    const roomId = join.event.roomId;
    const stateEvents = await this.prepareMany(state, rules, roomId, origin);
    const chainEvents = await this.prepareMany(authChain, rules, roomId, origin);
    await this.persistOutlierChain(roomId, rules, [...stateEvents, ...chainEvents]);
    const stored = await this.deps.reader.getEvents(stateEvents.map((e) => e.eventId));
    const stateMap = new Map<StateKey, string>();
    for (const e of stored) if (e && e.rejected === undefined && typeof e.pdu.state_key === 'string') stateMap.set(stateKeyOf(e.pdu.type, e.pdu.state_key), e.eventId);
    const createId = stateMap.get(stateKeyOf('m.room.create', ''));
    if (createId === undefined) throw new Error('send_join state has no create event');

    return this.deps.writer.remote(roomId, rules, createId, async (s) => {
      const existing = await s.event(join.event.eventId);
      if (existing && !existing.outlier && existing.rejected === undefined) return existing;
      const failure = (await this.checkAgainstAuthEvents(s, join.event)) ?? (await this.checkAgainstState(s, join.event, { state: stateMap }));
      if (failure === MISSING) throw new Error('the auth events of the join are missing from the send_join response');
      if (failure) throw new Error(`join event not allowed: ${failure}`);
      return s.persist({ event: join.event, outcome: 'accepted', stateBefore: { state: stateMap }, replaceExtremities: true });
    });
  }

  /**
   * State fetched from `origin` for a room joined with partial state (the resync): each event
   * is checked (format, signatures, content hash: failing ones are dropped) and stored as an
   * outlier, rejected if its own auth events do not allow it. Events not in `only` (what was
   * asked for) are ignored.
   */
  async ingestFetchedState(roomId: string, rules: RoomVersionRules, origin: string, raws: unknown[], only: ReadonlySet<string>): Promise<void> {
    // Each wanted event once (a /state answer may repeat state events in its auth chain), before the costly checks.
    const byId = new Map<string, RoomEvent>();
    for (const raw of raws) {
      const parsed = parsePdu(raw, rules);
      if (parsed.ok && parsed.event.roomId === roomId && only.has(parsed.event.eventId) && !byId.has(parsed.event.eventId)) byId.set(parsed.event.eventId, parsed.event);
    }
    const events: VerifiedPdu[] = [];
    for (const v of await Promise.all([...byId.values()].map((e) => verifyPdu(e, rules, this.deps.keys)))) {
      if (v.ok) events.push(v.event);
      else this.deps.onWarning?.('dropping fetched event', { origin, error: v.error });
    }
    events.sort((a, b) => a.pdu.depth - b.pdu.depth);
    // Stored in slices, oldest first (each slice's auth events are stored by then): LevelDB
    // batches of tens of thousands of operations cost far more per operation than small ones.
    for (let i = 0; i < events.length; i += OUTLIER_SLICE) await this.persistOutlierChain(roomId, rules, events.slice(i, i + OUTLIER_SLICE));
  }

  /**
   * A room joined with partial state has its full state now: the events placed after our
   * join at stream position `since` were judged then by their own auth events only (decide()
   * below); each is checked against the state before it as it now is, and those it does not
   * allow are rejected after all (RemoteSession.recheckPlaced). Runs in the room's queue.
   * Returns the IDs rejected.
   */
  recheckAfterResync(s: RemoteSession, since: number): Promise<string[]> {
    return s.recheckPlaced(since, async (record, groupBefore) => {
      // A restricted join needs its authorising server's signature: checked again, stored events keep no record of it.
      const verified = typeof record.pdu.content.join_authorised_via_users_server === 'string' ? await verifyPdu(record, s.rules, this.deps.keys) : undefined;
      if (verified && !verified.ok) return verified.error;
      return this.checkAgainstState(s, verified?.event ?? record, { group: groupBefore });
    });
  }

  /** An invite of one of our users (already co-signed by us), for a room we may not be in. */
  async ingestInvite(version: string, invite: Pdu, strippedState: unknown[]): Promise<void> {
    const rules = roomVersion(version);
    if (!rules) throw new Error(`unsupported room version ${version}`);
    const parsed = await this.prepareOne(invite, rules);
    if (!parsed.ok) throw new Error(`invalid invite: ${parsed.error}`);
    // Kept for /sync's invite_state (sync/strippedState.ts reads unsigned.invite_room_state).
    const event = { ...parsed.event, pdu: { ...parsed.event.pdu, unsigned: { invite_room_state: strippedState as Pdu['content'][] } } };
    const createId = rules.roomIdIsCreateEventHash ? '$' + event.roomId.slice(1) : undefined;
    await this.deps.writer.remote(event.roomId, rules, createId, (s) => s.persistInvite(event));
  }

  /**
   * History of a room we are in, fetched with backfill from `origin`: each event is checked
   * like any PDU (signatures, content hash, auth against its auth events and against the
   * state before it; rejected ones are kept out of the timeline) and placed below the room's
   * earliest event, oldest lowest. Nothing else moves: current state, extremities, /sync.
   * Returns how many events were placed in the timeline.
   * Spec: server-server-api.md "Backfilling and retrieving missing events".
   */
  async ingestBackfill(origin: string, roomId: string, pdus: unknown[], gapAt?: number): Promise<number> {
    const version = await this.deps.reader.roomVersion(roomId);
    const rules = version === undefined ? undefined : roomVersion(version);
    if (!rules) throw new Error(`room ${roomId} is not known to this server`);
    const events = await this.prepareMany(pdus, rules, roomId, origin);
    const have = await this.deps.reader.getEvents(events.map((e) => e.eventId));
    const fresh = [...new Map(events.filter((_, i) => have[i] === undefined || have[i]!.outlier === true).map((e) => [e.eventId, e])).values()];
    if (fresh.length === 0) return 0;
    // Oldest first, so each event's prev events are placed before it.
    fresh.sort((a, b) => a.pdu.depth - b.pdu.depth);
    const createId = await this.createEventIdOf(roomId, rules);
    if (gapAt !== undefined) return this.fillGap(origin, roomId, rules, createId, gapAt, fresh);
    const lowest = await this.deps.writer.remote(roomId, rules, createId, (s) => s.lowestBackfill());
    let placed = 0;
    // Not below an ancestor already in the timeline (a prev event of a gap's event, delivered since).
    const blocked = new Set<string>();
    for (const [i, ev] of fresh.entries()) {
      // The batch's newest right below what is there, its oldest lowest: the timeline stays in depth order.
      const stream = lowest - (fresh.length - i);
      try {
        if (await this.placeBackfilled(origin, ev, stream, createId, blocked)) placed++;
      } catch (err) {
        this.deps.onWarning?.('failed to backfill event', { origin, eventId: ev.eventId, err: String(err) });
      }
    }
    return placed;
  }

  /**
   * Backfilled history for the gap below the event at `gapAt` (events sorted oldest first):
   * the newest that fit go into the gap's reserved positions, in depth order; then the gap
   * records what is still missing below them (nothing: closed).
   */
  private async fillGap(origin: string, roomId: string, rules: RoomVersionRules, createId: string | undefined, gapAt: number, fresh: VerifiedPdu[]): Promise<number> {
    // The gap holds what leads down from its missing events through events not placed here;
    // older history (reached through placed events) belongs below, not in it.
    const gap = await this.deps.writer.remote(roomId, rules, createId, (s) => s.gap(gapAt));
    const byId = new Map(fresh.map((e) => [e.eventId, e]));
    const inGap = new Set<string>();
    for (let frontier = (gap?.missing ?? []).filter((id) => byId.has(id)); frontier.length > 0; ) {
      frontier = frontier.filter((id) => !inGap.has(id));
      for (const id of frontier) inGap.add(id);
      frontier = frontier.flatMap((id) => byId.get(id)!.pdu.prev_events.filter((p) => byId.has(p)));
    }
    const wanted = fresh.filter((e) => inGap.has(e.eventId));
    const positions = await this.deps.writer.remote(roomId, rules, createId, (s) => s.claimGapPositions(gapAt, wanted.length));
    const fitting = wanted.slice(wanted.length - positions.length);
    let placed = 0;
    // Events that cannot go below the gap's event: an ancestor of theirs arrived since and was
    // placed above it (the timeline keeps every event after its ancestors). They stay out of the
    // gap, with everything built on them; their senders' queues deliver them in order.
    const blocked = new Set<string>();
    for (const [i, ev] of fitting.entries()) {
      try {
        if (await this.placeBackfilled(origin, ev, positions[i], createId, blocked)) placed++;
      } catch (err) {
        this.deps.onWarning?.('failed to backfill event into a gap', { origin, eventId: ev.eventId, err: String(err) });
      }
    }
    // Still missing: what was missing before, and the prev events of what came, not placed here.
    await this.deps.writer.remote(roomId, rules, createId, (s) =>
      s.updateGap(gapAt, async (before) =>
        (await this.unplaced([...new Set([...before, ...fitting.flatMap((e) => e.pdu.prev_events)])])).filter((id) => !blocked.has(id)),
      ),
    );
    return placed;
  }

  /** `blocked` collects the events refused for causal order, and refuses what is built on them. */
  private async placeBackfilled(origin: string, ev: VerifiedPdu, stream: number, createId: string | undefined, blocked: Set<string>): Promise<boolean> {
    if (ev.pdu.prev_events.some((p) => blocked.has(p))) {
      blocked.add(ev.eventId);
      return false;
    }
    // The batch's oldest events have unknown prev events: their state comes from state_ids.
    const gapStates = await this.fillPrevEvents(origin, ev, { allowMissingEvents: false });
    await this.fillAuthEvents(origin, ev);
    return this.deps.writer.remote(ev.roomId, ev.rules, createId, async (s) => {
      const existing = await s.event(ev.eventId);
      if (existing && !existing.outlier) return false;
      // Only above every prev event placed already (checked in the room's queue): the timeline
      // keeps each event after its ancestors.
      // (Rejected and soft-failed events have no place in it: position 0.)
      if ((await s.events(ev.pdu.prev_events)).some((p) => p !== undefined && !p.outlier && p.stream !== 0 && p.stream > stream)) {
        blocked.add(ev.eventId);
        return false;
      }
      const authFailure = await this.checkAgainstAuthEvents(s, ev);
      if (authFailure === MISSING) return false;
      // The room's first event (create) has nothing before it.
      const stateBefore: StateBefore | undefined = ev.pdu.prev_events.length === 0 ? { state: new Map() } : await this.stateBefore(s, ev, gapStates);
      if (stateBefore === undefined) return false;
      const failure = authFailure ?? (await this.checkAgainstState(s, ev, stateBefore));
      await s.persistBackfilled({ event: ev, stream, stateBefore, ...(failure !== undefined ? { rejected: failure } : {}) });
      return failure === undefined;
    });
  }

  // ── one room of a transaction ──────────────────────────────────────────────

  private async ingestRoom(origin: string, roomId: string, rules: RoomVersionRules, events: RoomEvent[], txn: TxnProgress): Promise<void> {
    const { results } = txn;
    // Spec: server-server-api.md "Server Access Control Lists (ACLs)": PDUs from a denied origin are ignored.
    const acl = await this.deps.reader.currentStateEvent(roomId, 'm.room.server_acl', '');
    if (acl && !serverAllowedByAcl(origin, acl.pdu.content)) {
      for (const e of events) results.set(e.eventId, { error: `Server ${origin} is denied by the room's server ACL` });
      return;
    }
    // Signatures of the whole batch at once: the Ed25519 checks run on the thread pool while
    // the events already verified are decided (each awaits only its own check).
    const checks: Array<Promise<Verified>> = events.map((e) =>
      verifyPdu(e, rules, this.deps.keys).catch((err: unknown) => ({ ok: false as const, error: `Could not verify event: ${(err as Error).message}` })),
    );
    // A check may first fetch its server's keys (network): one check per sending server is
    // awaited here, so that the room's queue is not held while keys are fetched.
    const firstOfServer = new Map<string | undefined, number>();
    events.forEach((e, i) => firstOfServer.set(serverNameOf(e.pdu.sender), firstOfServer.get(serverNameOf(e.pdu.sender)) ?? i));
    await Promise.all([...firstOfServer.values()].map((i) => checks[i]));
    // Runs of events whose graph is all here are decided and written together (one
    // commit); an event with a hole around it, or a redaction, takes the one-by-one path.
    for (let i = 0; i < events.length; ) {
      i = await this.ingestRun(origin, roomId, rules, events, checks, i, txn);
      if (i >= events.length) break;
      const v = await checks[i++];
      if (!v.ok) {
        results.set(events[i - 1].eventId, { error: v.error });
        continue;
      }
      const ev = v.event;
      try {
        results.set(ev.eventId, await this.handle(origin, ev, { allowMissingEvents: true }));
      } catch (err) {
        this.deps.onWarning?.('failed to process PDU', { origin, eventId: ev.eventId, err: String(err) });
        // Acknowledged with the transaction, so ours to keep: taken in again later (pduRetrier.ts).
        if (err instanceof RemoteFetchError && err.passing && this.deps.keepForLater) {
          await this.deps.keepForLater(origin, ev.eventId, toWire(ev.pdu, ev.refHashes));
        }
        txn.last?.failed();
        results.set(ev.eventId, { error: `Could not process event: ${(err as Error).message}` });
      }
    }
  }

  /**
   * Decide and persist, in one group commit, the events from `from` on that need nothing
   * fetched: prev events placed (stored, or earlier in this run), auth events stored; those
   * failing their signature checks get their error. Results are set only once the group is
   * durable. When the group ends the transaction (every other PDU has its result), the
   * transaction's last writes go into its batch. Returns the index of the first event not taken.
   */
  private async ingestRun(
    origin: string,
    roomId: string,
    rules: RoomVersionRules,
    events: RoomEvent[],
    checks: Array<Promise<Verified>>,
    from: number,
    txn: TxnProgress,
  ): Promise<number> {
    const { results } = txn;
    const createId = await this.createEventIdOf(roomId, rules);
    const decided: Array<[string, PduResult]> = [];
    let next = from;
    try {
      await this.deps.writer.remote(roomId, rules, createId, (s) =>
        s.grouped(async () => {
          await s.prefetch(events.slice(from).map((e) => e.eventId));
          for (; next < events.length; next++) {
            const v = await checks[next];
            if (!v.ok) {
              decided.push([events[next].eventId, { error: v.error }]);
              continue;
            }
            const ev = v.event;
            // A redaction reads its target from the database: it gets a commit of its own.
            if (ev.pdu.type === 'm.room.redaction' || !(await this.needsNothing(s, ev))) break;
            try {
              decided.push([ev.eventId, await this.decide(s, ev, new Map())]);
            } catch (err) {
              this.deps.onWarning?.('failed to process PDU', { origin, eventId: ev.eventId, err: String(err) });
              txn.last?.failed();
              decided.push([ev.eventId, { error: `Could not process event: ${(err as Error).message}` }]);
            }
          }
          if (next === events.length && txn.last) this.stageLastWrite(s, txn, decided);
        }),
      );
    } catch (err) {
      // The group's write failed: none of it was stored (nor the transaction's last writes).
      this.deps.onWarning?.('failed to persist PDUs', { origin, roomId, err: String(err) });
      txn.last?.failed();
      for (const [id] of decided) results.set(id, { error: `Could not process event: ${(err as Error).message}` });
      return next; // the caller takes the event at `next` one by one: there is progress
    }
    for (const [id, r] of decided) results.set(id, r);
    return next;
  }

  /** If this group completes the transaction (all other results are in), its last writes join the group's batch. */
  private stageLastWrite(s: RemoteSession, txn: TxnProgress, decided: ReadonlyArray<[string, PduResult]>): void {
    const all = new Map(txn.results);
    for (const [id, r] of decided) all.set(id, r);
    for (const id of txn.expected) if (!all.has(id)) return;
    s.stageWithGroup((batch) => txn.last!.stage(all, batch));
  }

  /** The event is known already, or its prev events are placed and its auth events stored. */
  private async needsNothing(s: RemoteSession, ev: VerifiedPdu): Promise<boolean> {
    const [self, ...rest] = await s.events([ev.eventId, ...ev.pdu.prev_events, ...ev.pdu.auth_events]);
    if (self && !self.outlier) return true;
    const prevs = rest.slice(0, ev.pdu.prev_events.length);
    const auth = rest.slice(ev.pdu.prev_events.length);
    return prevs.every((p) => p !== undefined && !p.outlier) && auth.every((a) => a !== undefined);
  }

  /** Fill the holes around one verified event, then decide and persist it in the room's queue. */
  private async handle(origin: string, ev: VerifiedPdu, opts: HandleOptions): Promise<PduResult> {
    const known = await this.deps.reader.getEvent(ev.eventId);
    if (known && !known.outlier) return known.rejected !== undefined ? { error: `Event was rejected: ${known.rejected}` } : {};
    const gapStates = await this.fillPrevEvents(origin, ev, opts);
    await this.fillAuthEvents(origin, ev);
    const createId = await this.createEventIdOf(ev.roomId, ev.rules);
    return this.deps.writer.remote(ev.roomId, ev.rules, createId, (s) => this.decide(s, ev, gapStates));
  }

  /** The checks that need the graph, then the write. Runs in the room's queue. */
  private async decide(s: RemoteSession, ev: VerifiedPdu, gapStates: Map<string, Map<StateKey, string>>): Promise<PduResult> {
    const existing = await s.event(ev.eventId);
    if (existing && !existing.outlier) return existing.rejected !== undefined ? { error: `Event was rejected: ${existing.rejected}` } : {};
    if (!s.currentHead()) return { error: 'This server is not in the room' };

    const opts = await this.authOptions(s, ev);
    const authFailure = await this.checkAgainstAuthEvents(s, ev, opts);
    if (authFailure === MISSING) return { error: 'Some auth events could not be retrieved' };

    const stateBefore = await this.stateBefore(s, ev, gapStates);
    if (stateBefore === undefined) return { error: 'The state before the event could not be determined' };
    const reject = async (reason: string): Promise<PduResult> => {
      await s.persist({ event: ev, outcome: 'rejected', stateBefore, reason });
      return { error: `Event rejected: ${reason}` };
    };
    if (authFailure) return reject(authFailure);
    // Partial state (MSC3706, as Synapse): the state before the event may lack its sender's
    // membership, so its own auth events (step 4) judge it, and nothing is soft-failed
    // (Synapse PR #13354) until the background resync has brought the full state.
    if (this.deps.partialState?.isPartial(ev.roomId)) {
      await s.persist({ event: ev, outcome: 'accepted', stateBefore, ...gapOf(gapStates) });
      return {};
    }
    const stateFailure = await this.checkAgainstState(s, ev, stateBefore, opts);
    if (stateFailure) return reject(stateFailure);

    // Soft failure: valid at its place in the graph, but not against the room as it is now.
    // An event on the room's tip (state before = current state) has just passed that check.
    const onTip = 'group' in stateBefore && stateBefore.group === s.currentHead()?.record.stateGroup;
    const current = onTip ? { allowed: true } : checkEventAuth(ev, await s.lookupCurrent(authKeys(ev.pdu, ev.rules)), ev.rules, opts);
    if (!current.allowed) {
      await s.persist({ event: ev, outcome: 'soft_failed', stateBefore });
      return {};
    }
    await s.persist({ event: ev, outcome: 'accepted', stateBefore, ...gapOf(gapStates) });
    return {};
  }

  /** Step 4: the event's own auth_events (all present, none rejected, the right ones) allow it. */
  private async checkAgainstAuthEvents(s: RemoteSession, ev: RoomEvent, authOpts?: AuthOptions): Promise<string | typeof MISSING | undefined> {
    const rules = s.rules;
    const records = await s.events(ev.pdu.auth_events);
    if (records.some((r) => r === undefined)) return MISSING;
    const authEvents = records.map((r) => r!);
    const bad = authEvents.find((r) => r.rejected !== undefined);
    if (bad) return `auth event ${bad.eventId} was rejected`;
    const opts = authOpts ?? (await this.authOptions(s, ev));
    const shape = checkAuthEvents(ev, authEvents, rules, opts.createEventId ? { createEventId: opts.createEventId } : {});
    if (!shape.allowed) return `${shape.reason} (auth rule ${shape.rule})`;
    const withCreate: RoomEvent[] = [...authEvents];
    if (rules.createEventNotInAuthEvents && opts.createEventId) {
      const create = await s.event(opts.createEventId);
      if (create && create.rejected === undefined) withCreate.unshift(create);
    }
    const res = checkEventAuth(ev, stateFromEvents(withCreate), rules, opts);
    return res.allowed ? undefined : `${res.reason} (auth rule ${res.rule})`;
  }

  /** Step 5: the state before the event allows it. */
  private async checkAgainstState(s: RemoteSession, ev: RoomEvent, stateBefore: StateBefore, opts?: AuthOptions): Promise<string | undefined> {
    const keys = authKeys(ev.pdu, s.rules);
    const lookup = 'group' in stateBefore ? await s.lookupGroup(stateBefore.group, keys) : await s.lookupIn(stateBefore.state, keys);
    const res = checkEventAuth(ev, lookup, s.rules, opts ?? (await this.authOptions(s, ev)));
    return res.allowed ? undefined : `${res.reason} (auth rule ${res.rule})`;
  }

  /** The state before the event: after its one prev event, or the resolution of the states after each. */
  private async stateBefore(s: RemoteSession, ev: RoomEvent, gapStates: Map<string, Map<StateKey, string>>): Promise<StateBefore | undefined> {
    const prevs = ev.pdu.prev_events;
    if (prevs.length === 1 && !gapStates.has(prevs[0])) {
      const group = await s.placedGroup(prevs[0]);
      return group === undefined ? undefined : { group };
    }
    const states: Map<StateKey, string>[] = [];
    let base: number | undefined;
    for (const p of prevs) {
      const gap = gapStates.get(p);
      if (gap) {
        states.push(gap);
        continue;
      }
      const after = await s.stateAfter(p);
      if (!after) return undefined;
      base ??= after.group;
      states.push(after.state);
    }
    if (states.length === 0) return undefined;
    const state = await s.resolve(states);
    return base === undefined ? { state } : { state, base };
  }

  private async authOptions(s: RemoteSession, ev: RoomEvent): Promise<AuthOptions> {
    const createEventId = s.rules.roomIdIsCreateEventHash ? '$' + ev.roomId.slice(1) : s.currentHead()?.record.createEventId;
    const isSignedBy = 'alsoSignedBy' in ev ? signedByFor(ev as VerifiedPdu) : undefined;
    return { ...(createEventId ? { createEventId } : {}), ...(isSignedBy ? { isSignedBy } : {}) };
  }

  // ── filling holes ──────────────────────────────────────────────────────────

  /**
   * Make every prev event known with a place in the graph: first get_missing_events from the
   * sender (its events are processed as ordinary PDUs, oldest first), then, for what is still
   * missing, the state after it as the sender sees it (returned; the prev event is an outlier).
   */
  private async fillPrevEvents(origin: string, ev: VerifiedPdu, opts: HandleOptions): Promise<Map<string, Map<StateKey, string>>> {
    let missing = await this.unplaced(ev.pdu.prev_events);
    if (missing.length === 0) return new Map();
    if (opts.allowMissingEvents) {
      const extremities = await this.deps.reader.forwardExtremities(ev.roomId);
      // Not the extremities' depth: a branch that forked below them (a partition's) has its
      // first events deeper down, and cut off they would be placed after their descendants.
      // Synapse asks from the room's lowest depth too (get_min_depth).
      const minDepth = Math.min(await this.lowestPlacedDepth(ev.roomId), ev.pdu.depth);
      let fetched: unknown[] = [];
      try {
        fetched = await this.fetcher.missingEvents(origin, ev.roomId, {
          earliest_events: extremities.map((x) => x.eventId),
          latest_events: [ev.eventId],
          limit: MISSING_EVENTS_LIMIT,
          min_depth: minDepth,
        });
      } catch (err) {
        this.deps.onWarning?.('get_missing_events failed; falling back to state_ids', { origin, err: String(err) });
      }
      const events = await this.prepareMany(fetched, ev.rules, ev.roomId, origin);
      for (const f of events.sort((a, b) => a.pdu.depth - b.pdu.depth)) {
        if (f.eventId === ev.eventId) continue;
        const r = await this.handle(origin, f, { allowMissingEvents: false });
        if (r.error) this.deps.onWarning?.('missing event not accepted', { eventId: f.eventId, error: r.error });
      }
      missing = await this.unplaced(ev.pdu.prev_events);
    }
    const gapStates = new Map<string, Map<StateKey, string>>();
    for (const prev of missing) gapStates.set(prev, await this.stateAfterRemote(origin, ev.roomId, ev.rules, prev));
    return gapStates;
  }

  /** The state after `prevId` as `origin` has it: state_ids, plus the event itself; fetched events become outliers. */
  private async stateAfterRemote(origin: string, roomId: string, rules: RoomVersionRules, prevId: string): Promise<Map<StateKey, string>> {
    const { pduIds, authChainIds } = await this.fetcher.stateIds(origin, roomId, prevId);
    const wanted = [...new Set([...pduIds, ...authChainIds, prevId])];
    const have = await this.deps.reader.getEvents(wanted);
    const toFetch = wanted.filter((_, i) => have[i] === undefined);
    const raw: unknown[] = [];
    for (let i = 0; i < toFetch.length; i += FETCH_CONCURRENCY) {
      const got = await Promise.all(toFetch.slice(i, i + FETCH_CONCURRENCY).map((id) => this.fetcher.event(origin, id)));
      raw.push(...got.filter((x) => x !== undefined));
    }
    const fetched = await this.prepareMany(raw, rules, roomId, origin);
    await this.persistOutlierChain(roomId, rules, fetched);
    const records = await this.deps.reader.getEvents([...pduIds, prevId]);
    const state = new Map<StateKey, string>();
    for (const r of records.slice(0, pduIds.length)) {
      if (r && r.roomId === roomId && r.rejected === undefined && typeof r.pdu.state_key === 'string') {
        state.set(stateKeyOf(r.pdu.type, r.pdu.state_key), r.eventId);
      }
    }
    const prev = records[pduIds.length];
    if (!prev) throw new Error(`could not retrieve missing prev event ${prevId}`);
    if (prev.rejected === undefined && typeof prev.pdu.state_key === 'string') state.set(stateKeyOf(prev.pdu.type, prev.pdu.state_key), prev.eventId);
    return state;
  }

  /** Fetch the auth chain from `origin` if any auth event is unknown here. */
  private async fillAuthEvents(origin: string, ev: VerifiedPdu): Promise<void> {
    const have = await this.deps.reader.getEvents(ev.pdu.auth_events);
    if (have.every((e) => e !== undefined)) return;
    let chain: unknown[] = [];
    try {
      chain = await this.fetcher.eventAuth(origin, ev.roomId, ev.eventId);
    } catch (err) {
      this.deps.onWarning?.('event_auth failed', { origin, err: String(err) });
      return;
    }
    await this.persistOutlierChain(ev.roomId, ev.rules, await this.prepareMany(chain, ev.rules, ev.roomId, origin));
  }

  /** Store fetched events as outliers, oldest first, each checked against its own auth events (rejected if not allowed). */
  private async persistOutlierChain(roomId: string, rules: RoomVersionRules, events: VerifiedPdu[]): Promise<void> {
    if (events.length === 0) return;
    const sorted = [...new Map(events.map((e) => [e.eventId, e])).values()].sort((a, b) => a.pdu.depth - b.pdu.depth);
    const byId = new Map(sorted.map((e) => [e.eventId, e as RoomEvent]));
    const stored = await this.deps.reader.getEvents([...new Set(sorted.flatMap((e) => e.pdu.auth_events))]);
    const storedById = new Map(stored.filter(isDefined).map((e) => [e.eventId, e]));
    const rejected = new Map<string, string>();
    const createId = rules.roomIdIsCreateEventHash ? '$' + roomId.slice(1) : sorted.find((e) => e.pdu.type === 'm.room.create')?.eventId;
    const createEvent = createId ? (byId.get(createId) ?? storedById.get(createId) ?? (await this.deps.reader.getEvent(createId))) : undefined;
    for (const e of sorted) {
      const auth = e.pdu.auth_events.map((id) => byId.get(id) ?? storedById.get(id));
      const rejectedAuth = e.pdu.auth_events.find((id) => rejected.has(id) || storedById.get(id)?.rejected !== undefined);
      if (rejectedAuth) {
        rejected.set(e.eventId, `auth event ${rejectedAuth} was rejected`);
        continue;
      }
      if (auth.some((a) => a === undefined)) continue; // cannot judge it yet; kept as a plain outlier
      const opts: AuthOptions = { ...(createId ? { createEventId: createId } : {}), isSignedBy: signedByFor(e) };
      const shape = checkAuthEvents(e, auth as RoomEvent[], rules, opts.createEventId ? { createEventId: opts.createEventId } : {});
      const lookupEvents = rules.createEventNotInAuthEvents && createEvent ? [createEvent, ...(auth as RoomEvent[])] : (auth as RoomEvent[]);
      const res = shape.allowed ? checkEventAuth(e, stateFromEvents(lookupEvents), rules, opts) : shape;
      if (!res.allowed) rejected.set(e.eventId, `${res.reason} (auth rule ${res.rule})`);
    }
    await this.deps.writer.remote(roomId, rules, createId, (s) => s.persistOutliers(sorted, rejected));
  }

  /** Depth of the room's earliest event in the timeline (backfilled ones included). */
  private async lowestPlacedDepth(roomId: string): Promise<number> {
    const [first] = await this.deps.reader.timeline(roomId, { after: -Number.MAX_SAFE_INTEGER, dir: 'f', limit: 1 });
    return first?.pdu.depth ?? 0;
  }

  /** Prev events this server does not have, or has only as outliers (no known state). */
  private async unplaced(ids: string[]): Promise<string[]> {
    const have = await this.deps.reader.getEvents(ids);
    return ids.filter((_, i) => {
      const e = have[i];
      return e === undefined || e.outlier === true;
    });
  }

  private async createEventIdOf(roomId: string, rules: RoomVersionRules): Promise<string | undefined> {
    if (rules.roomIdIsCreateEventHash) return '$' + roomId.slice(1);
    return (await this.deps.reader.currentStateEvent(roomId, 'm.room.create', ''))?.eventId;
  }

  private async prepareOne(raw: unknown, rules: RoomVersionRules): Promise<{ ok: true; event: VerifiedPdu } | { ok: false; error: string }> {
    const parsed = parsePdu(raw, rules);
    if (!parsed.ok) return parsed;
    return verifyPdu(parsed.event, rules, this.deps.keys);
  }

  /** Parse and verify fetched events of `roomId`; those failing are dropped (and logged). */
  private async prepareMany(raws: unknown[], rules: RoomVersionRules, roomId: string, origin: string): Promise<VerifiedPdu[]> {
    const out = await Promise.all(raws.map((r) => this.prepareOne(r, rules)));
    const good: VerifiedPdu[] = [];
    for (const r of out) {
      if (r.ok && r.event.roomId === roomId) good.push(r.event);
      else this.deps.onWarning?.('dropping fetched event', { origin, error: r.ok ? 'wrong room' : r.error });
    }
    return good;
  }
}

const MISSING = Symbol('missing auth events');

type Verified = { ok: true; event: VerifiedPdu } | { ok: false; error: string };

/** The state entries the auth rules look at for `pdu`. */
function authKeys(pdu: Pdu, rules: RoomVersionRules): Array<[string, string]> {
  return [['m.room.create', ''], ['m.room.power_levels', ''], ...authEventTypesFor(pdu, rules)];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDefined = <T>(v: T | undefined): v is T => v !== undefined;

/** PersistRemote.gap: the prev events whose state had to be fetched (a hole below the event). */
function gapOf(gapStates: ReadonlyMap<string, unknown>): { gap?: string[] } {
  return gapStates.size > 0 ? { gap: [...gapStates.keys()] } : {};
}
