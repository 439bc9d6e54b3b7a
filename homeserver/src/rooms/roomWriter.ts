// The single writer of room events. Every write to a room runs in that room's
// queue: it plans drafts against the current state, builds and signs each event,
// takes its stream position, stages all its writes, and commits them in ONE
// atomic batch. Writes that queued up behind each other are committed as one group
// (one fsync), each planned on top of the ones before it; a write that fails is
// dropped from the group alone. Only after the batch is durable does the in-memory
// tip move, the outputs fire and the callers hear back. Different rooms never wait
// for each other.
import { roomIdOfCreateEvent } from '@parley/federation/core/eventId';
import type { StateLookup } from '@parley/federation/core/auth/index';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import { referenceHashObject, usesRefPairs } from '@parley/federation/core/eventRefs';
import type { JsonObject, RoomEvent } from '@parley/federation/core/types';
import type { RoomOutputs } from '../events/outputs.js';
import { notFound, roomInUse } from '../http/errors.js';
import { Batch } from '../storage/batch.js';
import type { EventRecord } from '../storage/eventsRepo.js';
import { Lru } from '../storage/lru.js';
import type { RoomStorage } from '../storage/roomStorage.js';
import { EMPTY_GROUP } from '../storage/stateRepo.js';
import type { TxnScope } from '../storage/txnRepo.js';
import { authorize } from './pipeline/authorize.js';
import { authSelection, placeDraft } from './pipeline/buildEvent.js';
import type { EventDraft } from './pipeline/draft.js';
import { finalizeEvent, type Signer } from './pipeline/finalizeEvent.js';
import { stageEvent, type Staged } from './pipeline/stageEvent.js';
import { headStateEvent, loadHead, stateLookupFor, type RoomHead } from './roomHead.js';
import type { RoomQueue } from './roomQueue.js';
import { RemoteSession } from './remoteSession.js';
import { TxnLookups, type TxnLookup } from './txnLookups.js';
import type { StoredEvent } from './types.js';

/** What a planner sees of the room: its version and current state. */
export interface RoomView {
  roomId: string;
  version: string;
  rules: RoomVersionRules;
  stateEvent(type: string, stateKey: string): Promise<StoredEvent | undefined>;
  /** A synchronous lookup over the given (type, state key) pairs of the current state. */
  lookup(keys: Array<[string, string]>): Promise<StateLookup>;
}

/** Decides, inside the room's queue, what to write: drafts (or events built by prepare()), or an existing event that already does it. */
export type Planner = (view: RoomView) => Promise<Array<EventDraft | RoomEvent> | { existing: string }>;

export interface AppendResult {
  /** The events written, or the existing event the planner or transaction pointed at. */
  eventIds: string[];
  events: EventRecord[];
}

interface Job {
  plan: Planner;
  txn: TxnLookup | undefined;
  resolve(r: AppendResult): void;
  reject(err: unknown): void;
}

/** Most appends committed together; bounds the batch size and a group's latency. */
const MAX_GROUP = 64;

export interface StreamPositions {
  next(): number;
  finish(pos: number): void;
  /** Positions passed over for a timeline gap (storage/streamCounter.ts). */
  skip(n: number): { first: number; count: number };
}

export interface WriterDeps {
  storage: RoomStorage;
  counter: StreamPositions;
  outputs: RoomOutputs;
  signer: Signer;
  queue: RoomQueue;
  clock?: () => number;
  onError?: (err: unknown, what: string) => void;
}

export interface CreateSpec {
  version: string;
  rules: RoomVersionRules;
  create: EventDraft;
  /** Room ID for versions before 12 (v12 derives it from the create event). */
  roomId?: string;
  /** The events that follow the create event, given the room ID. */
  then(roomId: string): EventDraft[];
  /** Extra writes for the same batch (e.g. the room's alias). */
  alsoStage?(batch: Batch, roomId: string, shortRoom: number): void;
}

export class RoomWriter {
  private readonly heads = new Lru<string, RoomHead>(2_000);
  /** Appends waiting for their room's next group commit. */
  private readonly waiting = new Map<string, Job[]>();
  private lastTs = 0;
  private lastCreateTs = 0;
  private readonly txns: TxnLookups;

  constructor(private readonly deps: WriterDeps) {
    this.txns = new TxnLookups((scope) => deps.storage.txns.get(scope));
  }

  /**
   * Plan and append events to an existing room. 404 if this server does not know the room.
   * Appends that queue up behind a running write to the same room are committed together
   * (one fsync for the group), each still planned against the state its predecessors left.
   */
  append(roomId: string, plan: Planner, txn?: TxnScope): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      const job: Job = { plan, txn: txn && this.txns.begin(txn), resolve, reject };
      const group = this.waiting.get(roomId);
      if (group && group.length < MAX_GROUP) {
        group.push(job);
        return;
      }
      this.waiting.set(roomId, [job]);
      const mine = this.waiting.get(roomId)!;
      void this.deps.queue.run(roomId, () => this.commitGroup(roomId, mine));
    });
  }

  /** Create a room: the create event and everything after it, in one atomic batch. */
  async create(spec: CreateSpec): Promise<{ roomId: string; eventIds: string[] }> {
    const { rules } = spec;
    const placed = placeDraft(spec.create, spec.roomId ? { roomId: spec.roomId, extremities: [] } : undefined, rules, this.createTs());
    const create = finalizeEvent(placed, rules, this.deps.signer);
    const roomId = spec.roomId ?? roomIdOfCreateEvent(create.pdu, rules);
    return this.deps.queue.run(roomId, async () => {
      const { storage } = this.deps;
      if ((await storage.ids.room(roomId)) !== undefined) throw roomInUse('Room ID already exists');
      const batch = new Batch();
      const shortRoom = await storage.ids.rooms.alloc(roomId, batch);
      spec.alsoStage?.(batch, roomId, shortRoom);
      const genesis: RoomHead = {
        shortRoom,
        rules,
        record: { roomId, version: spec.version, createEventId: create.eventId, stateGroup: EMPTY_GROUP, extremities: [], lastStream: 0 },
        state: new Map(),
      };
      const positions: number[] = [];
      let staged: Staged[] = [];
      try {
        const first: RoomEvent = { roomId, ...create };
        const res = await this.stageAll(genesis, [first, ...spec.then(roomId)], batch, undefined, positions);
        staged = res.staged;
        await batch.commit(storage.db);
        this.heads.set(roomId, { ...res.tip, staged: undefined });
      } finally {
        for (const p of positions) this.deps.counter.finish(p);
      }
      this.emit(roomId, staged);
      return { roomId, eventIds: staged.map((s) => s.record.eventId) };
    });
  }

  /**
   * Run `task` in the room's queue with a session that persists events received over
   * federation (each with its own prev_events, auth_events and state before). The room
   * may be unknown yet (a remote join or invite); `createEventId` is then recorded for it.
   */
  remote<T>(roomId: string, rules: RoomVersionRules, createEventId: string | undefined, task: (s: RemoteSession) => Promise<T>): Promise<T> {
    return this.deps.queue.run(roomId, async () => {
      const session = new RemoteSession(this.deps, roomId, await this.head(roomId), rules, createEventId);
      try {
        return await task(session);
      } finally {
        const h = session.currentHead();
        if (h) this.heads.set(roomId, { ...h, staged: undefined });
        else this.heads.delete(roomId);
      }
    });
  }

  /**
   * Build, sign and authorise an event on the room's current tip without writing it: an
   * invite that the invitee's server must countersign first (appended afterwards by a
   * planner that returns it). 403 if the auth rules refuse it.
   */
  prepare(roomId: string, draft: EventDraft): Promise<RoomEvent> {
    return this.deps.queue.run(roomId, async () => {
      const head = await this.head(roomId);
      if (!head) throw notFound('Unknown room');
      const event = await this.build(head, draft);
      const keys: Array<[string, string]> = [['m.room.create', ''], ['m.room.power_levels', ''], ...authSelection(event.pdu, head.rules)];
      authorize(event, await stateLookupFor(this.deps.storage, head, keys), head.rules, head.record.createEventId);
      return event;
    });
  }

  /** Forget the cached tip of a room whose data was deleted (admin purge; call inside exclusive()). */
  forgetRoom(roomId: string): void {
    this.heads.delete(roomId);
  }

  /** Run `task` in the room's queue (for non-event writes that must not interleave with events). */
  exclusive<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    return this.deps.queue.run(roomId, task);
  }

  /** Stage each job on top of the previous ones; a job that fails is dropped alone. Then one commit. */
  private async commitGroup(roomId: string, jobs: Job[]): Promise<void> {
    if (this.waiting.get(roomId) === jobs) this.waiting.delete(roomId);
    const { storage, counter } = this.deps;
    let tip: RoomHead | undefined;
    try {
      tip = await this.head(roomId);
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    if (!tip) {
      for (const j of jobs) j.reject(notFound('Unknown room'));
      return;
    }
    const batch = new Batch();
    const positions: number[] = [];
    const done: Array<{ job: Job; result: AppendResult; staged: Staged[] }> = [];
    const txnsHere = new Map<string, string>();
    for (const job of jobs) {
      const sub = new Batch();
      const subPositions: number[] = [];
      try {
        const existing = job.txn && (txnsHere.get(job.txn.key) ?? (await this.txns.existing(job.txn)));
        if (existing) {
          done.push({ job, result: { eventIds: [existing], events: [] }, staged: [] });
          continue;
        }
        const planned = await job.plan(this.view(tip));
        if (!Array.isArray(planned)) {
          done.push({ job, result: { eventIds: [planned.existing], events: [] }, staged: [] });
          continue;
        }
        const res = await this.stageAll(tip, planned, sub, job.txn?.scope, subPositions);
        batch.merge(sub);
        positions.push(...subPositions);
        tip = res.tip;
        const eventIds = res.staged.map((s) => s.record.eventId);
        if (job.txn && eventIds.length > 0) txnsHere.set(job.txn.key, eventIds[eventIds.length - 1]);
        done.push({ job, result: { eventIds, events: res.staged.map((s) => s.record) }, staged: res.staged });
      } catch (err) {
        for (const p of subPositions) counter.finish(p);
        job.reject(err);
      }
    }
    try {
      await batch.commit(storage.db);
      this.heads.set(roomId, { ...tip, staged: undefined });
    } catch (err) {
      this.heads.delete(roomId);
      for (const p of positions) counter.finish(p);
      for (const d of done) d.job.reject(err);
      return;
    }
    for (const p of positions) counter.finish(p);
    for (const [key, eventId] of txnsHere) this.txns.committed(key, eventId);
    for (const d of done) {
      this.emit(roomId, d.staged);
      d.job.resolve(d.result);
    }
  }

  /** Build (unless already built) and stage each event on top of the previous one. */
  private async stageAll(
    head: RoomHead,
    events: Array<EventDraft | RoomEvent>,
    batch: Batch,
    txn: TxnScope | undefined,
    positions: number[],
  ): Promise<{ tip: RoomHead; staged: Staged[] }> {
    const staged: Staged[] = [];
    let tip = head;
    for (const [i, e] of events.entries()) {
      // A draft is built here, now: its event ID is new (a prepared event may be known elsewhere).
      const fresh = !('pdu' in e);
      const event = fresh ? await this.build(tip, e) : e;
      const pos = this.deps.counter.next();
      positions.push(pos);
      const s = await stageEvent(this.deps.storage, batch, tip, event, pos, i === events.length - 1 ? txn : undefined, fresh);
      staged.push(s);
      tip = s.head;
    }
    return { tip, staged };
  }

  /** Tell listeners; the write is durable already, so a failing listener must not fail it. */
  private emit(roomId: string, staged: Staged[]): void {
    try {
      for (const s of staged) {
        this.deps.outputs.emit({ kind: 'new_event', event: s.record });
        if (s.redacted) this.deps.outputs.emit({ kind: 'redaction', roomId, redactedEventId: s.redacted.eventId, redaction: s.record });
      }
    } catch (err) {
      this.deps.onError?.(err, `room output listener for ${roomId}`);
    }
  }

  private async build(head: RoomHead, draft: EventDraft): Promise<RoomEvent> {
    const { rules } = head;
    const pdu = placeDraft(draft, { roomId: head.record.roomId, extremities: head.record.extremities }, rules, this.now());
    const auth = await Promise.all(authSelection(pdu, rules).map(([t, k]) => headStateEvent(this.deps.storage, head, t, k)));
    const authEvents = auth.filter((e): e is EventRecord => e !== undefined);
    pdu.auth_events = authEvents.map((e) => e.eventId);
    // v1/v2: each reference is paired with the referenced event's reference hash.
    const refs = usesRefPairs(rules) ? { prev: await this.refsTo(head, pdu.prev_events), auth: authEvents.map((e) => referenceHashObject(e, rules)) } : undefined;
    return { roomId: head.record.roomId, ...finalizeEvent(pdu, rules, this.deps.signer, refs) };
  }

  /** The reference hash objects of events of the room (staged or stored), in order. */
  private async refsTo(head: RoomHead, eventIds: string[]): Promise<JsonObject[]> {
    const staged = new Map([...(head.staged?.values() ?? [])].map((r) => [r.eventId, r]));
    const stored = await this.deps.storage.events.byIds(eventIds.filter((id) => !staged.has(id)));
    let k = 0;
    return eventIds.map((id) => {
      const e = staged.get(id) ?? stored[k++];
      if (!e) throw new Error(`prev event ${id} is not stored`);
      return referenceHashObject(e, head.rules);
    });
  }

  private async head(roomId: string): Promise<RoomHead | undefined> {
    const cached = this.heads.get(roomId);
    if (cached) return cached;
    const head = await loadHead(this.deps.storage, roomId);
    if (head) this.heads.set(roomId, head);
    return head;
  }

  private view(head: RoomHead): RoomView {
    const { storage } = this.deps;
    return {
      roomId: head.record.roomId,
      version: head.record.version,
      rules: head.rules,
      stateEvent: (t, k) => headStateEvent(storage, head, t, k),
      lookup: (keys) => stateLookupFor(storage, head, keys),
    };
  }

  /**
   * Every create event gets a millisecond of its own: from room version 12 the room ID is the
   * create event's hash, so two identical createRoom requests in one millisecond would collide.
   */
  private createTs(): number {
    const t = Math.max(this.now(), this.lastCreateTs + 1);
    this.lastCreateTs = t;
    this.lastTs = t;
    return t;
  }

  /** origin_server_ts never goes backwards, even if the wall clock does. */
  private now(): number {
    const t = Math.max((this.deps.clock ?? Date.now)(), this.lastTs);
    this.lastTs = t;
    return t;
  }
}
