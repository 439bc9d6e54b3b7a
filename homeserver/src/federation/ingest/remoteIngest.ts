// Taking events from other servers into our rooms' graphs.
// Every PDU goes through the checks on receipt, in the spec's order: format (dropped),
// signatures (dropped), content hash (redacted), auth against its auth_events
// (rejected), auth against the state before it (rejected), auth against the current
// state (soft-failed). Holes in the graph are filled first: get_missing_events from the
// sender, else the state at each missing prev event (state_ids, then /event for what we
// lack, kept as outliers). Each PDU of a transaction gets a result; rooms are processed
// concurrently, the PDUs of one room in order.
// Spec: server-server-api.md "Checks performed on receipt of a PDU", "Rejection",
// "Soft failure", "Backfilling and retrieving missing events", "Retrieving events",
// "Server Access Control Lists (ACLs)", "Room State Resolution".
import { authEventTypesFor, checkAuthEvents, checkEventAuth, stateFromEvents } from '@parley/federation/core/auth/index';
import type { AuthOptions } from '@parley/federation/core/auth/index';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { serverAllowedByAcl } from '@parley/federation/core/serverAcl';
import { stateKeyOf, type Pdu, type RoomEvent, type StateKey } from '@parley/federation/core/types';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { RemoteSession, StateBefore } from '../../rooms/remoteSession.js';
import type { RoomWriter } from '../../rooms/roomWriter.js';
import type { StoredRoomReader } from '../../rooms/roomReader.js';
import type { StoredEvent } from '../../rooms/types.js';
import { parsePdu, signedByFor, verifyPdu, type SignatureChecker, type VerifiedPdu } from './receivedPdu.js';
import { RemoteFetcher } from './remoteFetcher.js';

export type PduResult = { error?: string };

export interface RemoteIngestDeps {
  serverName: string;
  reader: Pick<StoredRoomReader, 'roomVersion' | 'getEvent' | 'getEvents' | 'currentStateEvent' | 'forwardExtremities'>;
  writer: Pick<RoomWriter, 'remote'>;
  keys: SignatureChecker;
  requester: FederationRequester;
  onWarning?: (msg: string, extra?: Record<string, unknown>) => void;
}

/** get_missing_events asks for at most this many events (as Synapse). */
const MISSING_EVENTS_LIMIT = 10;
/** Parallel /event fetches when filling the state at a gap. */
const FETCH_CONCURRENCY = 10;

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
  async ingestPdus(origin: string, pdus: unknown[]): Promise<Map<string, PduResult>> {
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
    await Promise.all([...byRoom].map(([roomId, g]) => this.ingestRoom(origin, roomId, g.rules, g.events, results)));
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
  async ingestBackfill(origin: string, roomId: string, pdus: unknown[]): Promise<number> {
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
    const lowest = await this.deps.writer.remote(roomId, rules, createId, (s) => s.lowestBackfill());
    let placed = 0;
    for (const [i, ev] of fresh.entries()) {
      // The batch's newest right below what is there, its oldest lowest: the timeline stays in depth order.
      const stream = lowest - (fresh.length - i);
      try {
        if (await this.placeBackfilled(origin, ev, stream, createId)) placed++;
      } catch (err) {
        this.deps.onWarning?.('failed to backfill event', { origin, eventId: ev.eventId, err: String(err) });
      }
    }
    return placed;
  }

  private async placeBackfilled(origin: string, ev: VerifiedPdu, stream: number, createId: string | undefined): Promise<boolean> {
    // The batch's oldest events have unknown prev events: their state comes from state_ids.
    const gapStates = await this.fillPrevEvents(origin, ev, { allowMissingEvents: false });
    await this.fillAuthEvents(origin, ev);
    return this.deps.writer.remote(ev.roomId, ev.rules, createId, async (s) => {
      const existing = await s.event(ev.eventId);
      if (existing && !existing.outlier) return false;
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

  private async ingestRoom(origin: string, roomId: string, rules: RoomVersionRules, events: RoomEvent[], results: Map<string, PduResult>): Promise<void> {
    // Spec: server-server-api.md "Server Access Control Lists (ACLs)": PDUs from a denied origin are ignored.
    const acl = await this.deps.reader.currentStateEvent(roomId, 'm.room.server_acl', '');
    if (acl && !serverAllowedByAcl(origin, acl.pdu.content)) {
      for (const e of events) results.set(e.eventId, { error: `Server ${origin} is denied by the room's server ACL` });
      return;
    }
    // Signatures of the whole batch at once: the Ed25519 checks run on the thread pool.
    const verified = await Promise.all(events.map((e) => verifyPdu(e, rules, this.deps.keys)));
    for (const [i, v] of verified.entries()) {
      const eventId = events[i].eventId;
      if (!v.ok) {
        results.set(eventId, { error: v.error });
        continue;
      }
      try {
        results.set(eventId, await this.handle(origin, v.event, { allowMissingEvents: true }));
      } catch (err) {
        this.deps.onWarning?.('failed to process PDU', { origin, eventId, err: String(err) });
        results.set(eventId, { error: `Could not process event: ${(err as Error).message}` });
      }
    }
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

    const authFailure = await this.checkAgainstAuthEvents(s, ev);
    if (authFailure === MISSING) return { error: 'Some auth events could not be retrieved' };

    const stateBefore = await this.stateBefore(s, ev, gapStates);
    if (stateBefore === undefined) return { error: 'The state before the event could not be determined' };
    const reject = async (reason: string): Promise<PduResult> => {
      await s.persist({ event: ev, outcome: 'rejected', stateBefore, reason });
      return { error: `Event rejected: ${reason}` };
    };
    if (authFailure) return reject(authFailure);
    const stateFailure = await this.checkAgainstState(s, ev, stateBefore);
    if (stateFailure) return reject(stateFailure);

    // Soft failure: valid at its place in the graph, but not against the room as it is now.
    const keys = authKeys(ev.pdu, ev.rules);
    const current = checkEventAuth(ev, await s.lookupCurrent(keys), ev.rules, await this.authOptions(s, ev));
    if (!current.allowed) {
      await s.persist({ event: ev, outcome: 'soft_failed', stateBefore });
      return {};
    }
    await s.persist({ event: ev, outcome: 'accepted', stateBefore });
    return {};
  }

  /** Step 4: the event's own auth_events (all present, none rejected, the right ones) allow it. */
  private async checkAgainstAuthEvents(s: RemoteSession, ev: RoomEvent): Promise<string | typeof MISSING | undefined> {
    const rules = s.rules;
    const records = await s.events(ev.pdu.auth_events);
    if (records.some((r) => r === undefined)) return MISSING;
    const authEvents = records.map((r) => r!);
    const bad = authEvents.find((r) => r.rejected !== undefined);
    if (bad) return `auth event ${bad.eventId} was rejected`;
    const opts = await this.authOptions(s, ev);
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
  private async checkAgainstState(s: RemoteSession, ev: RoomEvent, stateBefore: StateBefore): Promise<string | undefined> {
    const keys = authKeys(ev.pdu, s.rules);
    const lookup = 'group' in stateBefore ? await s.lookupGroup(stateBefore.group, keys) : await s.lookupIn(stateBefore.state, keys);
    const res = checkEventAuth(ev, lookup, s.rules, await this.authOptions(s, ev));
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
      const minDepth = Math.min(...extremities.map((x) => x.depth), ev.pdu.depth);
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

/** The state entries the auth rules look at for `pdu`. */
function authKeys(pdu: Pdu, rules: RoomVersionRules): Array<[string, string]> {
  return [['m.room.create', ''], ['m.room.power_levels', ''], ...authEventTypesFor(pdu, rules)];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDefined = <T>(v: T | undefined): v is T => v !== undefined;
