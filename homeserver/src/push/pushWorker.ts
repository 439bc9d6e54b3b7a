// Evaluates every new room event against the push rules of its local recipients, off the
// send path: RoomOutputs only pokes this worker, which reads the events after its cursor
// from the global stream in batches and writes, per batch and in ONE atomic write, the
// notifications (what an event's notifications share once, two small rows per recipient),
// the read positions that moved and the new cursor. The in-memory counts (countsCache.ts)
// take the batch just before that write, so the /syncs a message wakes need not wait for
// it: they are recomputed the same from the durable events after a crash, and dropped if
// the write fails. For the same reason a batch of events alone is written without its own
// fsync (its cursor is in it: a crash of the machine loses only whole batches, which are
// evaluated again), so the messages' own fsyncs do not queue behind it. The write itself
// waits until those /syncs have been answered (unless more work comes): in a large room
// its rows would otherwise delay every answer. Read receipts go through the same loop, so
// counts have a single writer. Recipients with the default rules share one evaluation per
// event (sharedEvaluation.ts). After a crash the worker resumes from its durable cursor.
// Spec: client-server-api/modules/push.md "Server behaviour", "Receiving notifications",
// "Marking notifications as read".
import { serverNameOf } from '@parley/federation/core/ids';
import type { RoomOutputs } from '../events/outputs.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import { Batch } from '../storage/batch.js';
import type { EventNotifications, NotificationsRepo, RoomCounts, RoomNotification } from '../storage/notificationsRepo.js';
import { countNotification, emptyCounts, markRead } from './counts.js';
import { pairKey, positionsOf, type CountsCache } from './countsCache.js';
import { eventFacts, eventFactsAmong, powerFacts, type EventContextReader, type EventFacts } from './eventContext.js';
import { evaluate, usesCondition, type EvalContext, type Evaluation } from './evaluator.js';
import type { SharedEvaluator, SharedResult } from './sharedEvaluation.js';
import { threadOf } from './threads.js';
import type { PushAction, Ruleset } from './types.js';

const BATCH = 200;
/** How long a /sync waits for the worker to count events it is about to return. */
const CATCH_UP_WAIT_MS = 1_000;
const RETRY_MS = 1_000;
/** Longest a batch's durable write waits for the answers its counts released (see PushWorkerDeps.answered). */
const WRITE_DEFER_MS = 2_000;
/** Above this many users with their own rules (plus users an event names), read the member list instead. */
const MAX_CANDIDATES = 64;

export interface PushWorkerDeps {
  reader: EventContextReader & Pick<RoomReader, 'eventsSince' | 'getEvent'>;
  repo: NotificationsRepo;
  counts: CountsCache;
  rules: {
    ruleset(userId: string): Promise<Ruleset>;
    /** undefined for a user whose rules are exactly the server defaults. */
    customRulesets(userIds: readonly string[]): Promise<Array<Ruleset | undefined>>;
    /** Users whose rules are not the server defaults (absent: the whole member list is read for every event). */
    customUsers?(): Promise<ReadonlySet<string>>;
  };
  /** Evaluates the server defaults once per event (absent: every user separately). */
  shared?: SharedEvaluator;
  stream: { readonly persisted: number };
  serverName: string;
  now?: () => number;
  /**
   * Resolves when the /syncs a batch's counts released have had their turn (the sync
   * notifier's `drained`): the batch's durable write, which none of their answers waits for,
   * then goes after them. The worker stops waiting when more work comes (new events, a
   * receipt, a wait for the durable position) or after WRITE_DEFER_MS. Absent: the write
   * follows the counts at once.
   */
  answered?: () => Promise<void>;
  /** Users who got new notifications (push delivery). */
  onNotified?: (userIds: string[]) => void;
  /** Users whose unread counts went down (badge updates). */
  onRead?: (userIds: string[]) => void;
  onError?: (err: unknown, what: string) => void;
}

interface ReceiptItem {
  userId: string;
  roomId: string;
  eventId: string;
  /** undefined: unthreaded. */
  thread: string | undefined;
  done: { resolve(): void; reject(err: unknown): void };
}

export class PushWorker {
  /** Every room event with stream ≤ cursor has been evaluated, durably. */
  private cursor = 0;
  /** Every room event with stream ≤ counted is in the in-memory counts (≥ cursor). */
  private counted = 0;
  private started = false;
  private running = false;
  private wanted = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private receipts: ReceiptItem[] = [];
  /** Waiting for durable counts (the notification list) and for counts in memory (/sync). */
  private readonly durableWaiters = new PositionWaiters();
  private readonly countedWaiters = new PositionWaiters();
  private idle: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  /** Ends a deferred write's wait when more work comes (see PushWorkerDeps.answered). */
  private poked: (() => void) | undefined;
  /** Work beyond the current batch came: its write is not deferred. */
  private urgent = false;
  /** The readable position the current batch read events up to. */
  private batchTarget = 0;

  constructor(private readonly deps: PushWorkerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Listen for new events (the listener only wakes the worker). */
  attach(outputs: RoomOutputs): void {
    outputs.subscribe((out) => {
      if (out.kind === 'new_event') this.poke(out.event.stream);
    });
  }

  /** Load the cursor and catch up with what was written while the server was down. */
  async start(): Promise<void> {
    const stored = await this.deps.repo.cursor();
    // A database that never ran the worker starts now rather than notifying all of history.
    this.cursor = stored ?? this.deps.stream.persisted;
    this.counted = this.cursor;
    if (stored === undefined) {
      const batch = new Batch();
      this.deps.repo.setCursor(batch, this.cursor);
      await this.deps.repo.commit(batch);
    }
    this.started = true;
    this.poke();
  }

  /** Wait until every event up to `upTo` is counted and written (bounded: counts may then lag a moment). */
  caughtUp(upTo: number, maxWaitMs = CATCH_UP_WAIT_MS): Promise<void> {
    if (this.cursor >= upTo || !this.started || this.closed) return Promise.resolve();
    this.poke();
    return this.durableWaiters.wait(upTo, maxWaitMs);
  }

  /** Whether countedUpTo(upTo) would resolve at once. */
  hasCounted(upTo: number): boolean {
    return this.counted >= upTo || !this.started || this.closed;
  }

  /**
   * Wait until every event up to `upTo` is in the in-memory counts, which may be before its
   * batch is durable (bounded as caughtUp). Counts a caller then loads from storage are only
   * the durable ones: wait with caughtUp for those.
   */
  countedUpTo(upTo: number, maxWaitMs = CATCH_UP_WAIT_MS): Promise<void> {
    if (this.hasCounted(upTo)) return Promise.resolve();
    // Not urgent: its events are new ones, whose own poke ended any deferred write.
    this.run(false);
    return this.countedWaiters.wait(upTo, maxWaitMs);
  }

  /** A read receipt (or read marker) moved: recount, durably, before resolving. */
  receiptMoved(userId: string, roomId: string, eventId: string, thread: string | undefined): Promise<void> {
    // Shutting down: the receipt itself is stored; counts catch up with the next receipt.
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.receipts.push({ userId, roomId, eventId, thread: thread === '' ? undefined : thread, done: { resolve, reject } });
      this.poke();
    });
  }

  /** Stop after the batch in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.poked?.();
    clearTimeout(this.retryTimer);
    await this.idle;
    for (const r of this.receipts.splice(0)) r.done.resolve();
    this.durableWaiters.releaseAll();
    this.countedWaiters.releaseAll();
  }

  /**
   * There is work: a new event at `pos`, a receipt, or a wait for the durable position. A
   * deferred write then goes at once, unless the work is an event the batch already read.
   */
  poke(pos?: number): void {
    this.run(pos === undefined || pos > this.batchTarget);
  }

  private run(urgent: boolean): void {
    if (!this.started || this.closed) return;
    this.wanted = true;
    if (urgent) {
      this.urgent = true;
      this.poked?.();
    }
    if (this.running) return;
    this.running = true;
    this.idle = this.loop().finally(() => {
      this.running = false;
      // A poke between the loop's last check and here found it still running: run again.
      if (this.wanted && !this.retryTimer) this.poke();
    });
  }

  private async loop(): Promise<void> {
    while (this.wanted && !this.closed) {
      this.wanted = false;
      try {
        // Keep going until a read finds nothing new.
        while (!this.closed && (await this.runBatch())) {}
      } catch (err) {
        this.deps.onError?.(err, 'push evaluation batch');
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.poke();
        }, RETRY_MS);
        return;
      }
    }
  }

  /** One batch; true when more events may be waiting. */
  private async runBatch(): Promise<boolean> {
    this.urgent = false;
    const target = this.deps.stream.persisted;
    this.batchTarget = target;
    const events = this.cursor < target ? await this.deps.reader.eventsSince(this.cursor, target, BATCH) : [];
    const receipts = this.receipts.splice(0);
    // Only an empty read proves nothing is left below `target` (a short page may just have had gaps).
    const more = events.length > 0;
    const newCursor = more ? events[events.length - 1].stream : Math.max(this.cursor, target);
    if (events.length === 0 && receipts.length === 0) {
      this.advance(newCursor);
      return false;
    }
    const tx = new CountsTx(this.deps.repo, this.deps.counts);
    const reader = batchReader(this.deps.reader);
    try {
      for (const ev of events) {
        try {
          await this.evaluateEvent(ev, tx, reader);
        } catch (err) {
          // One event that cannot be evaluated must not stop notifications for everything after it.
          this.deps.onError?.(err, `push evaluation of ${ev.eventId}`);
        }
      }
      for (const r of receipts) {
        const ev = await this.deps.reader.getEvent(r.eventId);
        if (ev && ev.roomId === r.roomId && ev.stream > 0) await tx.markRead(r.userId, r.roomId, r.thread, ev.stream, true);
      }
      if (events.length > 0) this.deps.repo.setCursor(tx.batch, newCursor);
      // Receipts in the batch are waited on: their write is neither deferred nor left unsynced
      // (a receipt is not in the stream the worker catches up from after a crash).
      const durable = receipts.length > 0;
      await tx.commit(
        () => this.advanceCounted(newCursor),
        () => (durable ? Promise.resolve() : this.answered()),
        durable,
      );
    } catch (err) {
      // Receipts are retried by their callers; events stay after the cursor and are retried here.
      for (const r of receipts) r.done.reject(err);
      throw err;
    }
    this.advance(newCursor);
    for (const r of receipts) r.done.resolve();
    if (tx.notified.size > 0) this.deps.onNotified?.([...tx.notified]);
    if (tx.read.size > 0) this.deps.onRead?.([...tx.read]);
    return more;
  }

  /** See PushWorkerDeps.answered: resolves once the answers went, new events came, the worker closes, or WRITE_DEFER_MS passed. */
  private async answered(): Promise<void> {
    const answered = this.deps.answered;
    if (!answered) return;
    // A turn first: the syncs the counts released are queued for their answers once it ends.
    await new Promise((resolve) => setImmediate(resolve));
    // Someone waits for the durable position (GET /notifications; a poke before this batch began).
    if (this.urgent || this.closed || this.durableWaiters.waiting) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, WRITE_DEFER_MS);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.poked = done;
      answered().then(done, done);
    });
    this.poked = undefined;
  }

  private advance(cursor: number): void {
    this.advanceCounted(cursor);
    if (cursor <= this.cursor) return;
    this.cursor = cursor;
    this.durableWaiters.releaseUpTo(cursor);
  }

  private advanceCounted(pos: number): void {
    if (pos <= this.counted) return;
    this.counted = pos;
    this.countedWaiters.releaseUpTo(pos);
  }

  private async evaluateEvent(ev: StoredEvent, tx: CountsTx, reader: PushWorkerDeps['reader']): Promise<void> {
    if (ev.outlier || ev.stream <= 0) return;
    const { serverName } = this.deps;
    const { pdu } = ev;
    const contentOf = async (id: string) => (await reader.getEvent(id))?.pdu.content;
    const thread = await threadOf(pdu.content, contentOf);
    // push.md "Marking notifications as read": sending an event reads up to it.
    if (serverNameOf(pdu.sender) === serverName) await tx.markRead(pdu.sender, ev.roomId, thread, ev.stream, false);

    const event = { ...pdu, room_id: ev.roomId, event_id: ev.eventId };
    let power: SenderPower | undefined;
    const loadPower = async (): Promise<SenderPower> => {
      if (power === undefined) {
        const facts = await powerFacts(reader, ev);
        power = { senderPowerLevel: facts.sender, notificationLevel: facts.notificationLevel };
      }
      return power;
    };
    let shared: SharedResult | undefined;
    let facts: EventFacts | undefined;
    const customUsers = this.deps.shared ? await this.deps.rules.customUsers?.() : undefined;
    if (customUsers) {
      // When the defaults notify nobody (joins, most state events), only users with their
      // own rules or named by the event can be notified: look up just their memberships
      // rather than the whole member list of a room that may be large.
      const memberCount = await reader.joinedCount(ev.roomId);
      shared = await evaluateWithPower((p) => this.deps.shared?.evaluate(event, { memberCount, ...p }), loadPower);
      if (shared && !shared.result.notify && customUsers.size + shared.named.size <= MAX_CANDIDATES) {
        facts = await eventFactsAmong(reader, ev, serverName, [...customUsers, ...shared.named], memberCount);
      }
    }
    facts ??= await eventFacts(reader, ev, serverName);
    if (facts.recipients.length === 0) return;
    const { memberCount } = facts;
    shared ??= await evaluateWithPower((p) => this.deps.shared?.evaluate(event, { memberCount, ...p }), loadPower);
    // Only users with their own rules have a ruleset to look up (when those users are known).
    const withOwn = !customUsers ? facts.recipients : customUsers.size === 0 ? [] : facts.recipients.filter((u) => customUsers.has(u));
    const rulesets = await this.deps.rules.customRulesets(withOwn);
    const own = new Map(withOwn.map((u, i) => [u, rulesets[i]]));
    let common: Evaluation;
    let recipients: EventNotifications['recipients'];
    if (shared && own.size === 0 && shared.named.size === 0) {
      // Nobody has rules of their own or is named by the event (most messages): one result for all.
      if (!shared.result.notify) return;
      common = shared.result;
      recipients = facts.recipients.map((userId) => ({ userId }));
    } else {
      const notified: Array<{ userId: string; result: Evaluation }> = [];
      for (const userId of facts.recipients) {
        let result: Evaluation;
        const custom = own.get(userId);
        if (!custom && shared && !shared.names(userId)) {
          result = shared.result;
        } else {
          const ruleset = custom ?? (await this.deps.rules.ruleset(userId));
          let displayName: string | undefined;
          if (usesCondition(ruleset, 'contains_display_name')) {
            const memberEventId = facts.memberEventOf(userId);
            const name = memberEventId ? (await reader.getEvent(memberEventId))?.pdu.content.displayname : undefined;
            displayName = typeof name === 'string' ? name : undefined;
          }
          result = await evaluateWithPower((p) => evaluate(ruleset, event, { memberCount, ...p, userId, displayName }), loadPower);
        }
        if (result.notify) notified.push({ userId, result });
      }
      if (notified.length === 0) return;
      const best = mostCommon(notified.map((n) => n.result));
      const sameAsCommon = (r: Evaluation) => r === best || (r.highlight === best.highlight && sameActions(r.actions, best.actions));
      common = best;
      recipients = notified.map(({ userId, result }) => (sameAsCommon(result) ? { userId } : { userId, own: { highlight: result.highlight, actions: result.actions } }));
    }
    await tx.addNotifications({
      stream: ev.stream,
      roomId: ev.roomId,
      eventId: ev.eventId,
      thread,
      ts: this.now(),
      common: { highlight: common.highlight, actions: common.actions },
      recipients,
    });
  }
}

type SenderPower = Pick<EvalContext, 'senderPowerLevel' | 'notificationLevel'>;

/**
 * Run an evaluation reading the sender's power level only if a rule asks for it: only
 * `sender_notification_permission` (@room mentions) does, and most events never reach it.
 * The first run answers NaN (the condition is then false) and notes whether it was asked;
 * only then are the levels read (state before the event) and the evaluation run again.
 */
async function evaluateWithPower<T>(run: (power: SenderPower) => T, load: () => Promise<SenderPower>): Promise<T> {
  let asked = false;
  const probe: SenderPower = {
    senderPowerLevel: Number.NaN,
    notificationLevel: () => {
      asked = true;
      return Number.NaN;
    },
  };
  const first = run(probe);
  return asked ? run(await load()) : first;
}

/** The result most recipients got (by identity: the shared result is one object for all, so it comes in runs). */
function mostCommon(results: Evaluation[]): Evaluation {
  const tally = new Map<Evaluation, number>();
  let best = results[0];
  let bestCount = 0;
  for (let i = 0; i < results.length; ) {
    const r = results[i];
    let end = i + 1;
    while (end < results.length && results[end] === r) end++;
    const n = (tally.get(r) ?? 0) + end - i;
    tally.set(r, n);
    if (n > bestCount) {
      best = r;
      bestCount = n;
    }
    i = end;
  }
  return best;
}

const sameActions = (a: PushAction[], b: PushAction[]) => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * One batch's changes: notifications and moved read positions staged in one write; the
 * in-memory counts follow once it is durable. Pairs recounted by a receipt in this batch
 * are worked on as copies, which the batch's later notifications also update.
 */
class CountsTx {
  readonly batch = new Batch();
  readonly notified = new Set<string>();
  readonly read = new Set<string>();
  /** Recounted pairs (copies of the cached counts plus this batch's changes). */
  private readonly working = new Map<string, { userId: string; roomId: string; counts: RoomCounts }>();
  /** This batch's notifications per pair, oldest first. */
  private readonly added = new Map<string, { userId: string; roomId: string; notes: RoomNotification[] }>();
  /** Pairs that have a positions row once this batch is durable (found, or written by it). */
  private readonly withRow = new Set<string>();
  /** Pairs whose first positions row this batch writes: nothing was ever counted for them before. */
  private readonly fresh = new Set<string>();
  /** This batch's notifications, staged into the batch only when it is written (see commit). */
  private readonly events: EventNotifications[] = [];

  constructor(
    private readonly repo: NotificationsRepo,
    private readonly cache: CountsCache,
  ) {}

  async addNotifications(n: EventNotifications): Promise<void> {
    this.events.push(n);
    // Each pair gets a positions row with its first notification, so a user's rooms with
    // notifications can be listed (badge counts); the cache remembers which pairs have one.
    const keys = n.recipients.map((r) => pairKey(r.userId, n.roomId));
    const unknown: number[] = [];
    keys.forEach((k, i) => {
      if (!this.cache.hasRow(k) && !this.withRow.has(k)) unknown.push(i);
    });
    if (unknown.length > 0) {
      const stored = await this.repo.manyPositions(unknown.map((i) => ({ userId: n.recipients[i].userId, roomId: n.roomId })));
      unknown.forEach((i, j) => {
        if (!stored[j]) {
          this.repo.putPositions(this.batch, n.recipients[i].userId, n.roomId, { readTo: 0, threads: {} });
          this.fresh.add(keys[i]);
        }
        this.withRow.add(keys[i]);
      });
    }
    // Notes are read-only once made: the recipients of the common result share one.
    const commonNote: RoomNotification = { stream: n.stream, thread: n.thread, highlight: n.common.highlight };
    n.recipients.forEach((r, i) => {
      const note: RoomNotification = r.own ? { stream: n.stream, thread: n.thread, highlight: r.own.highlight } : commonNote;
      const k = keys[i];
      const a = this.added.get(k);
      // An array made with its first note holds one slot; an empty one grows to seventeen on its first push.
      if (!a) this.added.set(k, { userId: r.userId, roomId: n.roomId, notes: [note] });
      else a.notes.push(note);
      const w = this.working.get(k);
      if (w) countNotification(w.counts, note);
      this.notified.add(r.userId);
    });
  }

  /** `create`: also for a pair without notifications (a receipt); an own event needs none then. */
  async markRead(userId: string, roomId: string, thread: string | undefined, stream: number, create: boolean): Promise<void> {
    const k = pairKey(userId, roomId);
    let w = this.working.get(k);
    if (!w) {
      const counts = structuredClone(await this.cache.get(userId, roomId));
      const added = this.added.get(k)?.notes ?? [];
      for (const n of added) countNotification(counts, n);
      // Nothing counted and no position: a user who never had a notification here.
      if (!create && counts.readTo === 0 && Object.keys(counts.threads).length === 0 && added.length === 0) return;
      w = { userId, roomId, counts };
      this.working.set(k, w);
    }
    const after = [
      ...(await this.repo.roomNotificationsAfter(userId, roomId, stream)),
      ...(this.added.get(k)?.notes ?? []).filter((n) => n.stream > stream),
    ];
    const before = totalOf(w.counts);
    if (markRead(w.counts, thread, stream, after)) {
      this.repo.putPositions(this.batch, userId, roomId, positionsOf(w.counts));
      this.withRow.add(k);
      if (totalOf(w.counts) < before) this.read.add(userId);
    }
  }

  /**
   * Counts into the cache, `counted()`, then — once `beforeWrite` resolves — the notification
   * rows and the write (fsync'd only if `durable`); the cache drops the batch's pairs if it fails.
   */
  async commit(counted: () => void, beforeWrite: () => Promise<void>, durable: boolean): Promise<void> {
    const touched = () => new Set([...this.added.keys(), ...this.working.keys()]);
    await this.cache.commit(
      async () => {
        await beforeWrite();
        for (const n of this.events) this.repo.addNotifications(this.batch, n);
        await (durable ? this.repo.commit(this.batch) : this.repo.commitDerived(this.batch));
      },
      () => {
        for (const [k, a] of this.added) {
          if (this.working.has(k)) continue;
          if (this.fresh.has(k) && !this.cache.peek(a.userId, a.roomId)) {
            // A pair's first notification: its counts are this batch's, so the /syncs this
            // message wakes (a big room: thousands of users at once) need not load them.
            const counts = emptyCounts();
            for (const n of a.notes) countNotification(counts, n);
            this.cache.set(a.userId, a.roomId, counts);
          } else {
            for (const n of a.notes) this.cache.count(k, n);
          }
        }
        for (const w of this.working.values()) this.cache.set(w.userId, w.roomId, w.counts);
        counted();
      },
      // Only once durable: a row noted for a failed write would never be written by the retry.
      () => {
        for (const k of this.withRow) this.cache.rowExists(k);
      },
      touched,
    );
  }
}

/**
 * The reader for one batch, with each room's member list read once: it is the current
 * list either way (eventFacts filters by membership stream), so many events of one busy
 * room cost one read.
 */
function batchReader(reader: PushWorkerDeps['reader']): PushWorkerDeps['reader'] {
  const members = new Map<string, ReturnType<RoomReader['members']>>();
  return {
    members(roomId) {
      let m = members.get(roomId);
      if (!m) members.set(roomId, (m = reader.members(roomId)));
      return m;
    },
    membership: (roomId, userId) => reader.membership(roomId, userId),
    joinedCount: (roomId) => reader.joinedCount(roomId),
    roomVersion: (roomId) => reader.roomVersion(roomId),
    stateEntriesAt: (ids, keys, at) => reader.stateEntriesAt(ids, keys, at),
    getEvents: (ids) => reader.getEvents(ids),
    getEvent: (id) => reader.getEvent(id),
    eventsSince: (after, upTo, limit) => reader.eventsSince(after, upTo, limit),
  };
}

function totalOf(c: RoomCounts): number {
  let n = 0;
  for (const t of Object.values(c.threads)) n += t.n;
  return n;
}

/** Callers waiting for a position, grouped by it (a wake-up of many syncs shares one entry and one timer). */
class PositionWaiters {
  private readonly groups = new Map<number, { resolvers: Array<() => void>; timer: NodeJS.Timeout }>();

  wait(pos: number, maxWaitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const group = this.groups.get(pos);
      if (group) {
        group.resolvers.push(resolve);
        return;
      }
      const timer = setTimeout(() => this.release(pos), maxWaitMs).unref();
      this.groups.set(pos, { resolvers: [resolve], timer });
    });
  }

  releaseUpTo(pos: number): void {
    for (const p of [...this.groups.keys()]) if (p <= pos) this.release(p);
  }

  releaseAll(): void {
    for (const p of [...this.groups.keys()]) this.release(p);
  }

  get waiting(): boolean {
    return this.groups.size > 0;
  }

  private release(pos: number): void {
    const group = this.groups.get(pos);
    if (!group) return;
    this.groups.delete(pos);
    clearTimeout(group.timer);
    for (const resolve of group.resolvers) resolve();
  }
}
