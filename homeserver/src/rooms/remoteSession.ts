// Persisting events whose place in the graph another server decided (federation).
// A local event is built on the room's tip; a remote one names its own prev_events and
// auth_events, so its state before is given (the state after its prev events, merged by
// state resolution), and the room's current state becomes the resolution of the states
// at its forward extremities. Runs inside the room's queue (RoomWriter.remote), one
// atomic batch per event — or, inside grouped(), one batch for all the events persisted
// there (one fsync for a whole /send transaction); reads in the session see what the
// group has staged. The in-memory head moves only after the batch is durable.
// Spec: server-server-api.md "Checks performed on receipt of a PDU", "Rejection",
// "Soft failure", "Room State Resolution".
import { refHashesOf } from '@parley/federation/core/eventRefs';
import { redact } from '@parley/federation/core/redaction';
import type { StateLookup } from '@parley/federation/core/auth/index';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import { splitStateKey, stateKeyOf, type Pdu, type RoomEvent, type StateKey } from '@parley/federation/core/types';
import type { RoomOutputs } from '../events/outputs.js';
import { Batch } from '../storage/batch.js';
import type { EventRecord } from '../storage/eventsRepo.js';
import type { RoomStorage } from '../storage/roomStorage.js';
import type { RoomRecord } from '../storage/roomsRepo.js';
import type { TimelineGap } from '../storage/timelineRepo.js';
import { EMPTY_GROUP, type ShortState, type StateDelta } from '../storage/stateRepo.js';
import { applyRedaction, redactsOf } from './pipeline/applyRedaction.js';
import { indexNewEvent, unindexRelation } from './pipeline/indexRelations.js';
import { resolveStateSets } from './resolveStates.js';
import type { RoomHead } from './roomHead.js';
import type { StreamPositions } from './roomWriter.js';
import type { Membership } from './types.js';

/** accepted: in the timeline and state; soft_failed: in the graph only; rejected: in neither. */
export type RemoteOutcome = 'accepted' | 'soft_failed' | 'rejected';

/** The state before an event: an existing state group, or a state map (stored as a delta on `base`). */
export type StateBefore = { group: number } | { state: ReadonlyMap<StateKey, string>; base?: number };

export interface PersistRemote {
  event: RoomEvent;
  outcome: RemoteOutcome;
  /** Absent only for a rejection decided before the state before was known. */
  stateBefore?: StateBefore;
  reason?: string;
  /**
   * The event becomes the room's only forward extremity (the join that made a room known:
   * older extremities from an earlier stay in the room no longer describe it).
   */
  replaceExtremities?: boolean;
  /**
   * Prev events of an accepted event that this server could not get (their state came from
   * state_ids): the history below the event has a hole, for which positions are reserved
   * just below the event's own, to be filled by backfill later (storage/timelineRepo.ts gaps).
   */
  gap?: readonly string[];
}

/**
 * Positions reserved below an event placed over a gap: twice the depths between the room's
 * newest known event and it (a partition's missed history is about that long per branch),
 * at least 100 (Synapse backfills 100 at a time) and at most 5,000 (depth is the sender's
 * claim). History beyond them cannot be placed in the gap.
 */
export const GAP_POSITIONS = 100;
const MAX_GAP_POSITIONS = 5_000;

function gapPositions(depth: number, extremities: ReadonlyArray<{ depth: number }>): number {
  const top = Math.max(0, ...extremities.map((x) => x.depth));
  return Math.min(MAX_GAP_POSITIONS, Math.max(GAP_POSITIONS, 2 * (depth - top)));
}

/** Events staged by persist() inside grouped(), committed together. */
interface Group {
  batch: Batch;
  byId: Map<string, EventRecord>;
  byShort: Map<number, EventRecord>;
  positions: number[];
  emits: Array<{ record: EventRecord; redacted: EventRecord | undefined }>;
  /** The head before the group: restored if the group is never committed. */
  durableHead: RoomHead | undefined;
  /** Event IDs prefetch() found unstored: nobody else stores this room's events meanwhile (we hold its queue). */
  absent: Set<string>;
  /**
   * Stored events read during the group (the auth events every PDU of a transaction cites):
   * read once per group; they cannot change meanwhile, since we hold the room's queue.
   */
  read: Map<string, EventRecord>;
  readByShort: Map<number, EventRecord>;
  /** Redactions waiting for events, as prefetch() read them. */
  redactedBy: Map<string, string | undefined>;
  /** The room record after the group's last accepted event: written once, not once per event. */
  tip: RoomHead | undefined;
}

export interface SessionDeps {
  storage: RoomStorage;
  counter: StreamPositions;
  outputs: RoomOutputs;
  onError?: (err: unknown, what: string) => void;
}

export class RemoteSession {
  private group: Group | undefined;

  constructor(
    private readonly deps: SessionDeps,
    readonly roomId: string,
    private head: RoomHead | undefined,
    readonly rules: RoomVersionRules,
    private readonly createEventId: string | undefined,
  ) {}

  /** The room as it is now (undefined while this server does not know the room). */
  currentHead(): RoomHead | undefined {
    return this.head;
  }

  /**
   * Run `task` with persist() staging into one shared batch, committed (one fsync) before
   * this resolves; listeners hear of the events only then. If the task throws or the
   * commit fails, nothing of the group is stored and the head is as before. persist() of a
   * redaction is refused inside a group: it reads its target from the database.
   */
  async grouped<T>(task: () => Promise<T>): Promise<T> {
    if (this.group) return task();
    const g: Group = { batch: new Batch(), byId: new Map(), byShort: new Map(), positions: [], emits: [], durableHead: this.head, absent: new Set(), read: new Map(), readByShort: new Map(), redactedBy: new Map(), tip: undefined };
    this.group = g;
    let committed = false;
    try {
      const out = await task();
      this.group = undefined;
      if (g.tip) this.deps.storage.rooms.put(g.batch, g.tip.shortRoom, g.tip.record);
      await g.batch.commit(this.deps.storage.db);
      committed = true;
      return out;
    } finally {
      this.group = undefined;
      for (const pos of g.positions) this.deps.counter.finish(pos);
      if (committed) for (const e of g.emits) this.emit([e.record], e.redacted);
      else this.head = g.durableHead;
    }
  }

  /** Inside grouped(): writes that become durable in the group's batch, with its events or not at all. */
  stageWithGroup(stage: (batch: Batch) => void): void {
    if (!this.group) throw new Error('stageWithGroup needs a group');
    stage(this.group.batch);
  }

  /**
   * Inside grouped(): read at once, for events about to be persisted, what persist() and
   * event() would otherwise read one by one (are they stored; is a redaction waiting).
   */
  async prefetch(eventIds: string[]): Promise<void> {
    const g = this.group;
    if (!g) return;
    const ids = eventIds.filter((id) => !g.byId.has(id) && !g.absent.has(id));
    const [found, redactions] = await Promise.all([this.deps.storage.events.byIds(ids), this.deps.storage.events.redactedByMany(ids)]);
    ids.forEach((id, i) => {
      if (found[i] === undefined) g.absent.add(id);
      g.redactedBy.set(id, redactions[i]);
    });
  }

  async event(eventId: string): Promise<EventRecord | undefined> {
    return (await this.events([eventId]))[0];
  }

  /** Stored events (and, inside grouped(), those staged so far). */
  async events(eventIds: string[]): Promise<Array<EventRecord | undefined>> {
    const g = this.group;
    if (!g) return this.deps.storage.events.byIds(eventIds);
    const out = eventIds.map((id) => g.byId.get(id) ?? g.read.get(id));
    const ask = eventIds.filter((id, i) => out[i] === undefined && !g.absent.has(id));
    if (ask.length === 0) return out;
    const found = await this.deps.storage.events.byIds(ask);
    for (const r of found) if (r) this.remember(g, r);
    let k = 0;
    return eventIds.map((id, i) => out[i] ?? (g.absent.has(id) ? undefined : found[k++]));
  }

  private async byShort(shortEvent: number): Promise<EventRecord | undefined> {
    const g = this.group;
    if (!g) return this.deps.storage.events.byShort(shortEvent);
    const known = g.byShort.get(shortEvent) ?? g.readByShort.get(shortEvent);
    if (known) return known;
    const found = await this.deps.storage.events.byShort(shortEvent);
    if (found) this.remember(g, found);
    return found;
  }

  /** A stored event read inside a group, kept for the group's other reads. */
  private remember(g: Group, r: EventRecord): void {
    g.read.set(r.eventId, r);
    g.readByShort.set(r.shortEvent, r);
  }

  /** The room's current state in long form (empty for an unknown room). */
  async currentState(): Promise<Map<StateKey, string>> {
    return this.head ? this.toLong(this.head.state) : new Map();
  }

  /** The state group after a stored, placed (non-outlier) event. */
  async placedGroup(eventId: string): Promise<number | undefined> {
    const ev = await this.event(eventId);
    return !ev || ev.outlier ? undefined : ev.groupAfter;
  }

  /** An auth lookup over a stored state group, for the given keys. */
  async lookupGroup(group: number, keys: Array<[string, string]>): Promise<StateLookup> {
    return this.shortLookup(await this.deps.storage.state.resolve(group), keys);
  }

  /** An auth lookup over the room's current state (empty for an unknown room). */
  lookupCurrent(keys: Array<[string, string]>): Promise<StateLookup> {
    return this.shortLookup(this.head?.state ?? new Map(), keys);
  }

  /** State after a stored, placed (non-outlier) event: its group and long form. */
  async stateAfter(eventId: string): Promise<{ group: number; state: Map<StateKey, string> } | undefined> {
    const ev = await this.event(eventId);
    if (!ev || ev.outlier) return undefined;
    return { group: ev.groupAfter, state: await this.toLong(await this.deps.storage.state.resolve(ev.groupAfter)) };
  }

  /** State resolution over stored events of this room. */
  resolve(stateSets: ReadonlyArray<ReadonlyMap<StateKey, string>>, pending: readonly EventRecord[] = []): Promise<Map<StateKey, string>> {
    const staged = this.group ? [...pending, ...this.group.byId.values()] : pending;
    return resolveStateSets(this.deps.storage.events, this.roomId, this.rules, stateSets, staged);
  }

  /** A synchronous auth lookup over a long-form state, for the given keys. */
  async lookupIn(state: ReadonlyMap<StateKey, string>, keys: Array<[string, string]>): Promise<StateLookup> {
    const wanted = keys.map(([t, k]) => stateKeyOf(t, k)).filter((k) => state.has(k));
    const records = await this.events(wanted.map((k) => state.get(k)!));
    const found = new Map<StateKey, Pdu>();
    wanted.forEach((k, i) => {
      const r = records[i];
      if (r && r.rejected === undefined) found.set(k, r.pdu);
    });
    return (type, stateKey) => found.get(stateKeyOf(type, stateKey));
  }

  /**
   * Store events known only by ID so far (auth chains, state fetched at a gap) without a
   * place in the timeline or state. Events already stored are left alone.
   */
  async persistOutliers(events: RoomEvent[], rejected?: ReadonlyMap<string, string>): Promise<void> {
    this.notInGroup('outliers');
    const { storage } = this.deps;
    const existing = await storage.events.byIds(events.map((e) => e.eventId));
    const fresh = events.filter((_, i) => existing[i] === undefined);
    if (fresh.length === 0) return;
    const batch = new Batch();
    const shortRoom = this.head?.shortRoom ?? (await storage.ids.rooms.alloc(this.roomId, batch));
    const unique = [...new Map(fresh.map((e) => [e.eventId, e])).values()];
    // One read for every short ID (a partial-state resync stores thousands at once).
    const shorts = await storage.ids.events.allocMany(unique.map((e) => e.eventId), batch);
    for (const [i, e] of unique.entries()) {
      const shortEvent = shorts[i];
      storage.events.put(batch, {
        eventId: e.eventId,
        roomId: this.roomId,
        pdu: e.pdu,
        ...refHashesOf(e),
        stream: 0,
        outlier: true,
        shortEvent,
        shortRoom,
        groupBefore: EMPTY_GROUP,
        groupAfter: EMPTY_GROUP,
        ...(rejected?.has(e.eventId) ? { rejected: rejected.get(e.eventId)! } : {}),
      });
    }
    await batch.commit(storage.db);
  }

  /**
   * The missing state of a room joined with partial state (MSC3706 resync). `full` is the
   * full state before our join (stored events; rejected ones are skipped), `joinGroupBefore`
   * the state group our join was placed on. Keys the room's current state lacks get their
   * entry from `full` (with the member index), written in slices (LevelDB batches of tens of
   * thousands of operations are slow per operation). Then every state group of the room from
   * our join on is filled in (StateRepo.fillSnapshots), as Synapse recomputes the state of
   * partial-state events: keys set since keep their newer events. A crash in between leaves
   * the room partial, and a rerun completes it. Returns how many current entries were added.
   */
  async addMissingState(full: readonly EventRecord[], joinGroupBefore: number): Promise<number> {
    const { storage } = this.deps;
    const head = this.head;
    if (!head) throw new Error(`room ${this.roomId} is not known here`);
    const usable = full.filter((r) => r.roomId === this.roomId && r.rejected === undefined && typeof r.pdu.state_key === 'string');
    const entries = new Map<number, number>();
    const missing: Array<[number, EventRecord]> = [];
    for (let i = 0; i < usable.length; i += STATE_SLICE) {
      const slice = usable.slice(i, i + STATE_SLICE);
      const batch = new Batch();
      const shortKeys = await storage.ids.stateKeys.allocMany(slice.map((r) => stateKeyOf(r.pdu.type, r.pdu.state_key!)), batch);
      for (const [j, r] of slice.entries()) {
        if (entries.has(shortKeys[j])) continue;
        entries.set(shortKeys[j], r.shortEvent);
        if (!head.state.has(shortKeys[j])) missing.push([shortKeys[j], r]);
      }
      await batch.commit(storage.db);
    }
    for (let i = 0; i < missing.length; i += STATE_SLICE) {
      const slice = missing.slice(i, i + STATE_SLICE);
      const batch = new Batch();
      storage.state.setCurrent(batch, head.shortRoom, { set: new Map(slice.map(([k, r]) => [k, r.shortEvent])) });
      for (const [, r] of slice) {
        if (r.pdu.type !== 'm.room.member') continue;
        storage.members.put(batch, head.shortRoom, r.pdu.state_key!, { membership: r.pdu.content.membership as Membership, eventId: r.eventId, stream: r.stream });
      }
      await batch.commit(storage.db);
    }
    const batch = new Batch();
    await storage.state.fillSnapshots(batch, head.shortRoom, joinGroupBefore, entries);
    await batch.commit(storage.db);
    this.head = { ...head, state: await storage.state.resolve(head.record.stateGroup) };
    return missing.length;
  }

  /**
   * Once a partial-state room has its full state (addMissingState): judge again, in order,
   * each event placed after stream position `since` (our join) against the now complete
   * state before it, as Synapse does when it un-partial-states an event (the state check
   * was skipped then: server-server-api.md "Checks performed on receipt of a PDU", step 5).
   * `check` answers why the event is not allowed (undefined: allowed). A failing event is
   * rejected after all: out of the timeline and the relations index, and its state change
   * is undone in the state of every event after it and in the room's current state and
   * memberships. The corrections are written in one batch at the end (a crash part-way
   * leaves the room partial, and the rerun starts over). Returns the IDs rejected.
   */
  async recheckPlaced(since: number, check: (event: EventRecord, groupBefore: number) => Promise<string | undefined>): Promise<string[]> {
    this.notInGroup('a re-check');
    const { storage } = this.deps;
    const head = this.head;
    if (!head) return [];
    const corrected = new Map<string, number>(); // event ID → its corrected state group after
    const rejected: string[] = [];
    // The corrections, written together at the end: a crash part-way leaves only unused
    // state groups (written as they are made, since `check` reads them), and a rerun starts over.
    const fixes = new Batch();
    for (let after = since; ; ) {
      const shorts = await storage.timeline.roomRange(head.shortRoom, { after, dir: 'f', limit: RECHECK_PAGE });
      if (shorts.length === 0) break;
      for (const r of await storage.events.byShorts(shorts)) {
        if (!r || r.outlier || r.rejected !== undefined || r.softFailed) continue;
        after = Math.max(after, r.stream);
        const groups = new Batch();
        const groupBefore = r.pdu.prev_events.some((p) => corrected.has(p)) ? await this.correctedBefore(groups, r, corrected) : r.groupBefore;
        const reason = await groups.commit(storage.db).then(() => check(r, groupBefore));
        if (reason === undefined && groupBefore === r.groupBefore) continue;
        const fixed: EventRecord = { ...r, groupBefore, groupAfter: groupBefore, ...(reason !== undefined ? { rejected: reason } : {}) };
        if (reason !== undefined) {
          storage.timeline.remove(fixes, r.shortRoom, r.stream);
          await unindexRelation(storage, fixes, r);
          rejected.push(r.eventId);
        } else if (typeof r.pdu.state_key === 'string') {
          const withEvent = new Batch();
          const shortKey = await storage.ids.stateKeys.alloc(stateKeyOf(r.pdu.type, r.pdu.state_key), withEvent);
          const before = await storage.state.resolve(groupBefore);
          fixed.groupAfter = (await storage.state.addGroup(withEvent, r.shortRoom, groupBefore, before, { set: new Map([[shortKey, r.shortEvent]]) })).group;
          await withEvent.commit(storage.db);
        }
        storage.events.put(fixes, fixed);
        corrected.set(r.eventId, fixed.groupAfter);
      }
      if (shorts.length < RECHECK_PAGE) break;
    }
    if (corrected.size > 0) await this.recomputeCurrent(fixes, corrected, new Set(rejected));
    return rejected;
  }

  /**
   * An invite of a local user into a room this server is not in: an outlier with a stream
   * position and the membership index, so the user's /sync lists it under rooms.invite.
   */
  persistInvite(event: RoomEvent): Promise<void> {
    return this.persistOutlierMembership(event, 'invite');
  }

  /**
   * Our user's knock, accepted by a resident server (send_knock), on a room this server is
   * not in: stored like a remote invite, so /sync lists it under rooms.knock.
   */
  persistKnock(event: RoomEvent): Promise<void> {
    return this.persistOutlierMembership(event, 'knock');
  }

  /**
   * A membership of a local user in a room this server is not in (an invite, a knock, or the
   * leave that rejects or rescinds one): an outlier with a stream position and the membership
   * index, so /sync lists the room under rooms.invite, rooms.knock or rooms.leave.
   */
  async persistOutlierMembership(event: RoomEvent, membership: 'invite' | 'knock' | 'leave'): Promise<void> {
    this.notInGroup('an outlier membership');
    const { storage, counter } = this.deps;
    const target = event.pdu.state_key;
    if (typeof target !== 'string') throw new Error(`a ${membership} membership needs a state_key`);
    if ((await storage.events.byId(event.eventId)) !== undefined) return;
    const batch = new Batch();
    const shortRoom = this.head?.shortRoom ?? (await storage.ids.rooms.alloc(this.roomId, batch));
    const shortEvent = await storage.ids.events.alloc(event.eventId, batch);
    const stream = counter.next();
    const record: EventRecord = {
      eventId: event.eventId,
      roomId: this.roomId,
      pdu: event.pdu,
      ...refHashesOf(event),
      stream,
      outlier: true,
      shortEvent,
      shortRoom,
      groupBefore: EMPTY_GROUP,
      groupAfter: EMPTY_GROUP,
    };
    storage.events.put(batch, record);
    storage.members.put(batch, shortRoom, target, { membership, eventId: event.eventId, stream });
    try {
      await batch.commit(storage.db);
    } finally {
      counter.finish(stream);
    }
    this.emit([record], undefined);
  }

  /** Store one event with its outcome; accepted events join the timeline and move the room's state. */
  async persist(p: PersistRemote): Promise<EventRecord> {
    const { storage, counter } = this.deps;
    const { event, outcome } = p;
    const { pdu, eventId } = event;
    const batch = new Batch();
    const shortRoom = this.head?.shortRoom ?? (await storage.ids.rooms.alloc(this.roomId, batch));
    const group = this.group;
    const shortEvent = group?.absent.has(eventId) ? storage.ids.events.allocNew(eventId, batch) : await storage.ids.events.alloc(eventId, batch);

    let groupBefore = EMPTY_GROUP;
    let before: ShortState = new Map();
    if (p.stateBefore) {
      if ('group' in p.stateBefore) {
        groupBefore = p.stateBefore.group;
        before = await storage.state.resolve(groupBefore);
      } else {
        const target = await this.toShort(p.stateBefore.state, batch);
        ({ group: groupBefore, state: before } = await this.groupFor(batch, shortRoom, p.stateBefore.base ?? EMPTY_GROUP, target));
      }
    }

    // Rejected events never change state (server-server-api.md "Rejection").
    let groupAfter = groupBefore;
    let after = before;
    let replaces: EventRecord['replaces'];
    if (typeof pdu.state_key === 'string' && outcome !== 'rejected' && p.stateBefore) {
      const shortKey = await storage.ids.stateKeys.alloc(stateKeyOf(pdu.type, pdu.state_key), batch);
      const replacedShort = before.get(shortKey);
      const replaced = replacedShort === undefined ? undefined : await this.byShort(replacedShort);
      if (replaced) replaces = { eventId: replaced.eventId, sender: replaced.pdu.sender, content: replaced.pdu.content };
      ({ group: groupAfter, state: after } = await storage.state.addGroup(batch, shortRoom, groupBefore, before, {
        set: new Map([[shortKey, shortEvent]]),
      }));
    }

    const positions: number[] = [];
    const gapped = outcome === 'accepted' && p.gap !== undefined && p.gap.length > 0;
    // Consecutive with the event's own position: nothing else takes one between these synchronous calls.
    const reserved = gapped ? counter.skip(gapPositions(pdu.depth, this.head?.record.extremities ?? [])) : undefined;
    const stream = outcome === 'accepted' ? counter.next() : 0;
    if (stream) positions.push(stream);
    const record: EventRecord = {
      eventId,
      roomId: this.roomId,
      pdu,
      ...refHashesOf(event),
      stream,
      shortEvent,
      shortRoom,
      groupBefore,
      groupAfter,
      ...(replaces ? { replaces } : {}),
      ...(p.stateBefore ? {} : { outlier: true }),
      ...(outcome === 'rejected' ? { rejected: p.reason ?? 'rejected' } : {}),
      ...(outcome === 'soft_failed' ? { softFailed: true } : {}),
    };

    let redacted: EventRecord | undefined;
    let newHead: RoomHead | undefined;
    let staged = false;
    try {
      if (outcome === 'accepted') {
        await this.applyEarlierRedaction(record);
        if (redactsOf(pdu, this.rules) !== undefined && pdu.type === 'm.room.redaction') {
          if (group) throw new Error('a redaction cannot be persisted inside a group');
          const lookup = await this.shortLookup(before, [
            ['m.room.create', ''],
            ['m.room.power_levels', ''],
          ]);
          redacted = await applyRedaction(storage, batch, event, lookup, this.rules);
        }
        storage.timeline.append(batch, shortRoom, stream, shortEvent);
        if (reserved) storage.timeline.putGap(batch, shortRoom, stream, { missing: [...p.gap!], low: reserved.first, high: reserved.first + reserved.count - 1 });
        // Relations (edits, threads, reactions) and timestamps of remote events are indexed too.
        indexNewEvent(storage, batch, record);
        newHead = await this.advanceHead(batch, shortRoom, record, after, p.replaceExtremities === true);
      }
      storage.events.put(batch, record);
      if (group) {
        // Staged only: the group commits it; reads in this session see it meanwhile.
        group.batch.merge(batch);
        group.positions.push(...positions);
        group.byId.set(eventId, record);
        group.byShort.set(shortEvent, record);
        group.absent.delete(eventId);
        if (newHead) group.tip = newHead;
        if (outcome === 'accepted') group.emits.push({ record, redacted });
        staged = true;
      } else {
        await batch.commit(storage.db);
      }
    } finally {
      if (!staged) for (const pos of positions) counter.finish(pos);
    }
    if (newHead) this.head = newHead;
    if (outcome === 'accepted' && !group) this.emit([record], redacted);
    return record;
  }

  /** The gap below the room's event at `gapAt`, if the history there has a hole. */
  async gap(gapAt: number): Promise<TimelineGap | undefined> {
    const shortRoom = this.head?.shortRoom;
    return shortRoom === undefined ? undefined : this.deps.storage.timeline.getGap(shortRoom, gapAt);
  }

  /**
   * Take the top `n` free positions of the gap below the event at `gapAt` (fewer when fewer
   * are left), ascending, for events about to be fetched into it. Durable before they are
   * used: a crash in between wastes them, never hands them out twice.
   */
  async claimGapPositions(gapAt: number, n: number): Promise<number[]> {
    this.notInGroup('a gap claim');
    const { storage } = this.deps;
    const shortRoom = this.head?.shortRoom;
    const gap = shortRoom === undefined ? undefined : await storage.timeline.getGap(shortRoom, gapAt);
    if (shortRoom === undefined || !gap) return [];
    const take = Math.max(0, Math.min(n, gap.high - gap.low + 1));
    if (take === 0) return [];
    const batch = new Batch();
    storage.timeline.putGap(batch, shortRoom, gapAt, { ...gap, high: gap.high - take });
    await batch.commit(storage.db);
    return Array.from({ length: take }, (_, i) => gap.high - take + 1 + i);
  }

  /**
   * After a fill: what the gap's history still misses, computed from what it missed before
   * (prev events not placed here); none left closes the gap.
   */
  async updateGap(gapAt: number, stillMissing: (before: string[]) => Promise<string[]>): Promise<void> {
    const { storage } = this.deps;
    const shortRoom = this.head?.shortRoom;
    const gap = shortRoom === undefined ? undefined : await storage.timeline.getGap(shortRoom, gapAt);
    if (shortRoom === undefined || !gap) return;
    const missing = await stillMissing(gap.missing);
    const batch = new Batch();
    if (missing.length === 0) storage.timeline.deleteGap(batch, shortRoom, gapAt);
    else storage.timeline.putGap(batch, shortRoom, gapAt, { ...gap, missing: [...missing] });
    await batch.commit(storage.db);
  }

  /** The lowest backfilled position of the room (0 when nothing was backfilled yet). */
  async lowestBackfill(): Promise<number> {
    const shortRoom = this.head?.shortRoom ?? (await this.deps.storage.ids.room(this.roomId));
    return shortRoom === undefined ? 0 : this.deps.storage.timeline.lowestBackfill(shortRoom);
  }

  /**
   * Store a historical event fetched by backfill at position `stream`: < 0, below the room's
   * timeline; or > 0, a gap position claimed with claimGapPositions. It gets its state
   * groups like any placed event but moves nothing: not the
   * room's current state, extremities or memberships, and nobody is told (no /sync, push or
   * federation sending). An outlier stored earlier under the same ID takes its place now.
   * Spec: server-server-api.md "Backfilling and retrieving missing events".
   */
  async persistBackfilled(p: { event: RoomEvent; stream: number; stateBefore: StateBefore; rejected?: string }): Promise<EventRecord> {
    this.notInGroup('a backfilled event');
    const { storage } = this.deps;
    const { event } = p;
    const batch = new Batch();
    const shortRoom = this.head?.shortRoom ?? (await storage.ids.rooms.alloc(this.roomId, batch));
    const shortEvent = await storage.ids.events.alloc(event.eventId, batch);
    let groupBefore: number;
    let before: ShortState;
    if ('group' in p.stateBefore) {
      groupBefore = p.stateBefore.group;
      before = await storage.state.resolve(groupBefore);
    } else {
      const target = await this.toShort(p.stateBefore.state, batch);
      ({ group: groupBefore, state: before } = await this.groupFor(batch, shortRoom, p.stateBefore.base ?? EMPTY_GROUP, target));
    }
    let groupAfter = groupBefore;
    if (typeof event.pdu.state_key === 'string' && p.rejected === undefined) {
      const shortKey = await storage.ids.stateKeys.alloc(stateKeyOf(event.pdu.type, event.pdu.state_key), batch);
      ({ group: groupAfter } = await storage.state.addGroup(batch, shortRoom, groupBefore, before, { set: new Map([[shortKey, shortEvent]]) }));
    }
    const record: EventRecord = {
      eventId: event.eventId,
      roomId: this.roomId,
      pdu: event.pdu,
      ...refHashesOf(event),
      stream: p.rejected === undefined ? p.stream : 0,
      shortEvent,
      shortRoom,
      groupBefore,
      groupAfter,
      ...(p.rejected !== undefined ? { rejected: p.rejected } : {}),
    };
    if (p.rejected === undefined) {
      await this.applyEarlierRedaction(record);
      if (p.stream > 0) storage.timeline.appendInGap(batch, shortRoom, p.stream, shortEvent, event.eventId);
      else storage.timeline.appendBackfill(batch, shortRoom, p.stream, shortEvent, event.eventId);
      // Edits, reactions and threads in fetched history aggregate like any (storage/relationsRepo.ts).
      indexNewEvent(storage, batch, record);
    }
    storage.events.put(batch, record);
    await batch.commit(storage.db);
    return record;
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** Writes that commit on their own would bypass a group's view of what is stored. */
  private notInGroup(what: string): void {
    if (this.group) throw new Error(`cannot persist ${what} inside a group`);
  }

  /** The state group before `r` from its prev events' states, some of them corrected by recheckPlaced. */
  private async correctedBefore(batch: Batch, r: EventRecord, corrected: ReadonlyMap<string, number>): Promise<number> {
    const groups = await this.groupsAfter(r.pdu.prev_events, corrected);
    return groups.length === 0 ? r.groupBefore : (await this.mergedGroup(batch, r.shortRoom, groups)).group;
  }

  /** One state group for several (the first itself if alone): their states merged by state resolution. */
  private async mergedGroup(batch: Batch, shortRoom: number, groups: readonly number[]): Promise<{ group: number; state: ShortState }> {
    const first = await this.deps.storage.state.resolve(groups[0]);
    if (groups.length === 1) return { group: groups[0], state: first };
    const states = await Promise.all(groups.map(async (g) => this.toLong(await this.deps.storage.state.resolve(g))));
    return this.groupFor(batch, shortRoom, groups[0], await this.toShort(await this.resolve(states), batch), first);
  }

  /** The distinct state groups after the given placed events, corrected ones as corrected. */
  private async groupsAfter(eventIds: readonly string[], corrected: ReadonlyMap<string, number>): Promise<number[]> {
    const stored = await this.events(eventIds.filter((id) => !corrected.has(id)));
    const groups = eventIds.map((id) => corrected.get(id)).filter((g) => g !== undefined);
    for (const e of stored) if (e && !e.outlier) groups.push(e.rejected === undefined ? e.groupAfter : e.groupBefore);
    return [...new Set(groups)];
  }

  /**
   * The room's current state again, from the states at its forward extremities, after
   * recheckPlaced corrected some of them: a rejected extremity gives way to its prev events.
   */
  private async recomputeCurrent(batch: Batch, corrected: ReadonlyMap<string, number>, rejected: ReadonlySet<string>): Promise<void> {
    const { storage } = this.deps;
    const head = this.head!;
    let extremities = head.record.extremities.filter((x) => !rejected.has(x.eventId));
    if (extremities.length < head.record.extremities.length) {
      const gone = await this.events(head.record.extremities.filter((x) => rejected.has(x.eventId)).map((x) => x.eventId));
      const prevs = await this.events([...new Set(gone.flatMap((e) => e?.pdu.prev_events ?? []))]);
      const kept = new Set(extremities.map((x) => x.eventId));
      for (const p of prevs) if (p && !p.outlier && p.rejected === undefined && !rejected.has(p.eventId) && !kept.has(p.eventId)) extremities.push({ eventId: p.eventId, depth: p.pdu.depth });
      if (extremities.length === 0) extremities = head.record.extremities;
    }
    const groups = await this.groupsAfter(extremities.map((x) => x.eventId), corrected);
    const { group, state: current } = await this.mergedGroup(batch, head.shortRoom, groups.length > 0 ? groups : [head.record.stateGroup]);
    const delta = diffShort(head.state, current);
    storage.state.setCurrent(batch, head.shortRoom, delta);
    await this.stageMemberships(batch, head.shortRoom, delta);
    const record: RoomRecord = { ...head.record, stateGroup: group, extremities };
    storage.rooms.put(batch, head.shortRoom, record);
    await batch.commit(storage.db);
    this.head = { ...head, record, state: current };
  }

  /** Extremities and current state after an accepted event; stages the room record, current state and memberships. */
  private async advanceHead(batch: Batch, shortRoom: number, record: EventRecord, after: ShortState, replace: boolean): Promise<RoomHead> {
    const { storage } = this.deps;
    const { pdu, eventId } = record;
    const prevIds = new Set(pdu.prev_events);
    const oldExtremities = replace ? [] : (this.head?.record.extremities ?? []);
    const extremities = [...oldExtremities.filter((x) => !prevIds.has(x.eventId) && x.eventId !== eventId), { eventId, depth: pdu.depth }];

    let currentGroup = record.groupAfter;
    let current = after;
    if (extremities.length > 1) {
      // The current state is the resolution of the states at every forward extremity.
      const others = await this.events(extremities.filter((x) => x.eventId !== eventId).map((x) => x.eventId));
      const shortStates = [after];
      for (const o of others) if (o && !o.outlier) shortStates.push(await storage.state.resolve(o.groupAfter));
      if (!shortStates.every((s) => sameShort(s, after))) {
        const longStates = await Promise.all(shortStates.map((s) => this.toLong(s, record)));
        const resolved = await this.resolve(longStates, [record]);
        const target = await this.toShort(resolved, batch, record);
        ({ group: currentGroup, state: current } = await this.groupFor(batch, shortRoom, record.groupAfter, target, after));
      }
    }

    const oldState: ShortState = this.head?.state ?? new Map();
    const delta = diffShort(oldState, current);
    storage.state.setCurrent(batch, shortRoom, delta);
    await this.stageMemberships(batch, shortRoom, delta, record);

    const roomRecord: RoomRecord = {
      ...(this.head?.record ?? {
        roomId: this.roomId,
        version: this.rules.id,
        createEventId: this.createEventId ?? (pdu.type === 'm.room.create' ? eventId : ''),
        lastStream: 0,
      }),
      stateGroup: currentGroup,
      extremities,
      lastStream: record.stream,
    };
    // Inside a group the record is written once, at the commit.
    if (!this.group) storage.rooms.put(batch, shortRoom, roomRecord);
    return { shortRoom, rules: this.rules, record: roomRecord, state: current };
  }

  /** Keep the membership index in step with the current state's member entries. */
  private async stageMemberships(batch: Batch, shortRoom: number, delta: StateDelta, staged?: EventRecord): Promise<void> {
    const { storage } = this.deps;
    const entries = [...delta.set];
    const removed = await storage.ids.stateKeysOf([...(delta.remove ?? [])]);
    for (const k of removed) {
      const [type, userId] = splitStateKey(k);
      if (type === 'm.room.member') storage.members.remove(batch, shortRoom, userId);
    }
    if (entries.length === 0) return;
    const keys = await storage.ids.stateKeysOf(entries.map(([k]) => k));
    for (const [i, [, shortEvent]] of entries.entries()) {
      const [type, userId] = splitStateKey(keys[i]);
      if (type !== 'm.room.member') continue;
      const ev = shortEvent === staged?.shortEvent ? staged : await this.byShort(shortEvent);
      if (!ev) continue;
      storage.members.put(batch, shortRoom, userId, {
        membership: ev.pdu.content.membership as Membership,
        eventId: ev.eventId,
        stream: ev.stream,
      });
    }
  }

  /** A redaction that arrived before its target applies now. */
  private async applyEarlierRedaction(record: EventRecord): Promise<void> {
    const { storage } = this.deps;
    const g = this.group;
    const earlier = g?.redactedBy.has(record.eventId) ? g.redactedBy.get(record.eventId) : await storage.events.redactedBy(record.eventId);
    const redaction = earlier === undefined ? undefined : await storage.events.byId(earlier);
    if (!redaction || redaction.roomId !== record.roomId || redaction.rejected !== undefined) return;
    record.pdu = redact(record.pdu, this.rules);
    record.redactedBy = redaction.eventId;
    record.redactedBecause = { eventId: redaction.eventId, pdu: redaction.pdu };
  }

  /** The group holding `target`: `base` itself if equal, else a new group stored as a delta on it. */
  private async groupFor(
    batch: Batch,
    shortRoom: number,
    base: number,
    target: ShortState,
    baseState?: ShortState,
  ): Promise<{ group: number; state: ShortState }> {
    const from = baseState ?? (await this.deps.storage.state.resolve(base));
    const delta = diffShort(from, target);
    if (delta.set.size === 0 && (delta.remove?.length ?? 0) === 0) return { group: base, state: from };
    return this.deps.storage.state.addGroup(batch, shortRoom, base, from, delta);
  }

  private async shortLookup(state: ShortState, keys: Array<[string, string]>): Promise<StateLookup> {
    // One dictionary lookup for all the keys (the auth rules' list repeats some).
    const longs = keys.map(([t, k]) => stateKeyOf(t, k));
    const shorts = await this.deps.storage.ids.stateKeys.lookupMany(longs);
    const found = new Map<StateKey, Pdu>();
    for (let i = 0; i < longs.length; i++) {
      const sk = shorts[i];
      const e = sk === undefined || found.has(longs[i]) ? undefined : state.get(sk);
      const ev = e === undefined ? undefined : await this.byShort(e);
      if (ev && ev.rejected === undefined) found.set(longs[i], ev.pdu);
    }
    return (type, stateKey) => found.get(stateKeyOf(type, stateKey));
  }

  private async toLong(state: ShortState, staged?: EventRecord): Promise<Map<StateKey, string>> {
    const entries = [...state];
    const keys = await this.deps.storage.ids.stateKeysOf(entries.map(([k]) => k));
    const shorts = entries.map(([, e]) => e);
    const ids = await this.deps.storage.ids.events.reverse(shorts);
    return new Map(
      keys.map((k, i) => {
        const id = ids[i] ?? (staged && shorts[i] === staged.shortEvent ? staged.eventId : undefined);
        if (id === undefined) throw new Error(`short event ${shorts[i]} has no event ID`);
        return [k, id];
      }),
    );
  }

  private async toShort(state: ReadonlyMap<StateKey, string>, batch: Batch, staged?: EventRecord): Promise<Map<number, number>> {
    const { storage } = this.deps;
    const entries = [...state];
    const shorts = await storage.ids.eventShorts(entries.map(([, id]) => id));
    const out = new Map<number, number>();
    for (const [i, [key, id]] of entries.entries()) {
      const e = shorts[i] ?? (staged && staged.eventId === id ? staged.shortEvent : undefined);
      if (e === undefined) throw new Error(`state event ${id} is not stored`);
      out.set(await storage.ids.stateKeys.alloc(key, batch), e);
    }
    return out;
  }

  /** Tell listeners; the write is durable already, so a failing listener must not fail it. */
  private emit(records: EventRecord[], redacted: EventRecord | undefined): void {
    try {
      for (const r of records) {
        this.deps.outputs.emit({ kind: 'new_event', event: r });
        if (redacted) this.deps.outputs.emit({ kind: 'redaction', roomId: this.roomId, redactedEventId: redacted.eventId, redaction: r });
      }
    } catch (err) {
      this.deps.onError?.(err, `room output listener for ${this.roomId}`);
    }
  }
}

/** Events read per page by recheckPlaced. */
const RECHECK_PAGE = 500;

/** State entries added per batch by addMissingState. */
const STATE_SLICE = 5_000;

function sameShort(a: ShortState, b: ShortState): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

function diffShort(from: ShortState, to: ShortState): { set: Map<number, number>; remove: number[] } {
  const set = new Map<number, number>();
  // A message on the tip: the state is the very map the head holds (cached per state group),
  // and walking a large room's state for every message would cost per member.
  if (from === to) return { set, remove: [] };
  for (const [k, v] of to) if (from.get(k) !== v) set.set(k, v);
  const remove = [...from.keys()].filter((k) => !to.has(k));
  return { set, remove };
}
