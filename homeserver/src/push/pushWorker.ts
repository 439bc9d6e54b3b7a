// Evaluates every new room event against the push rules of its local recipients, off the
// send path: RoomOutputs only pokes this worker, which reads the events after its cursor
// from the global stream in batches and writes, per batch and in ONE atomic write, the
// notifications, the changed unread counts and the new cursor. Read receipts go through
// the same loop, so counts have a single writer. After a crash the worker resumes from
// its durable cursor; nothing is evaluated twice.
// Spec: client-server-api/modules/push.md "Server behaviour", "Receiving notifications",
// "Marking notifications as read".
import { serverNameOf } from '@parley/federation/core/ids';
import type { RoomOutputs } from '../events/outputs.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import { Batch } from '../storage/batch.js';
import type { NotificationRecord, NotificationsRepo, RoomCounts, RoomNotification } from '../storage/notificationsRepo.js';
import { countNotification, emptyCounts, markRead } from './counts.js';
import { eventFacts, powerFacts, type EventContextReader } from './eventContext.js';
import { evaluate, usesCondition } from './evaluator.js';
import { threadOf } from './threads.js';
import type { Ruleset } from './types.js';

const BATCH = 200;
/** How long a /sync waits for the worker to count events it is about to return. */
const CATCH_UP_WAIT_MS = 1_000;
const RETRY_MS = 1_000;

export interface PushWorkerDeps {
  reader: EventContextReader & Pick<RoomReader, 'eventsSince' | 'getEvent'>;
  repo: NotificationsRepo;
  rules: { ruleset(userId: string): Promise<Ruleset> };
  stream: { readonly persisted: number };
  serverName: string;
  now?: () => number;
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
  /** Every room event with stream ≤ cursor has been evaluated (in memory; durable with each batch). */
  private cursor = 0;
  private started = false;
  private running = false;
  private wanted = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private receipts: ReceiptItem[] = [];
  private waiters: Array<{ upTo: number; resolve(): void }> = [];
  private idle: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly deps: PushWorkerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Listen for new events (the listener only wakes the worker). */
  attach(outputs: RoomOutputs): void {
    outputs.subscribe((out) => {
      if (out.kind === 'new_event') this.poke();
    });
  }

  /** Load the cursor and catch up with what was written while the server was down. */
  async start(): Promise<void> {
    const stored = await this.deps.repo.cursor();
    // A database that never ran the worker starts now rather than notifying all of history.
    this.cursor = stored ?? this.deps.stream.persisted;
    if (stored === undefined) {
      const batch = new Batch();
      this.deps.repo.setCursor(batch, this.cursor);
      await this.deps.repo.commit(batch);
    }
    this.started = true;
    this.poke();
  }

  /** Wait until every event up to `upTo` is counted (bounded: counts may then lag a moment). */
  caughtUp(upTo: number, maxWaitMs = CATCH_UP_WAIT_MS): Promise<void> {
    if (this.cursor >= upTo || !this.started || this.closed) return Promise.resolve();
    this.poke();
    return new Promise<void>((resolve) => {
      const w = { upTo, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve();
      }, maxWaitMs).unref();
    });
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
    clearTimeout(this.retryTimer);
    await this.idle;
    for (const r of this.receipts.splice(0)) r.done.resolve();
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  poke(): void {
    if (!this.started || this.closed) return;
    this.wanted = true;
    if (this.running) return;
    this.running = true;
    this.idle = this.loop().finally(() => (this.running = false));
  }

  private async loop(): Promise<void> {
    while (this.wanted && !this.closed) {
      this.wanted = false;
      try {
        // Keep going until a read finds nothing new.
        while (!this.closed && (await this.runBatch())) {}
      } catch (err) {
        this.deps.onError?.(err, 'push evaluation batch');
        this.retryTimer = setTimeout(() => this.poke(), RETRY_MS);
        return;
      }
    }
  }

  /** One batch; true when more events may be waiting. */
  private async runBatch(): Promise<boolean> {
    const target = this.deps.stream.persisted;
    const events = this.cursor < target ? await this.deps.reader.eventsSince(this.cursor, target, BATCH) : [];
    const receipts = this.receipts.splice(0);
    // Only an empty read proves nothing is left below `target` (a short page may just have had gaps).
    const more = events.length > 0;
    const newCursor = more ? events[events.length - 1].stream : Math.max(this.cursor, target);
    if (events.length === 0 && receipts.length === 0) {
      this.advance(newCursor);
      return false;
    }
    const tx = new CountsTx(this.deps.repo);
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
      await tx.commit();
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

  private advance(cursor: number): void {
    if (cursor <= this.cursor) return;
    this.cursor = cursor;
    const ready = this.waiters.filter((w) => w.upTo <= cursor);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.upTo > cursor);
    for (const w of ready) w.resolve();
  }

  private async evaluateEvent(ev: StoredEvent, tx: CountsTx, reader: PushWorkerDeps['reader']): Promise<void> {
    if (ev.outlier || ev.stream <= 0) return;
    const { serverName } = this.deps;
    const { pdu } = ev;
    const contentOf = async (id: string) => (await reader.getEvent(id))?.pdu.content;
    const thread = await threadOf(pdu.content, contentOf);
    // push.md "Marking notifications as read": sending an event reads up to it.
    if (serverNameOf(pdu.sender) === serverName) await tx.markRead(pdu.sender, ev.roomId, thread, ev.stream, false);

    const facts = await eventFacts(reader, ev, serverName);
    if (facts.recipients.length === 0) return;
    const power = await powerFacts(reader, ev);
    const event = { ...pdu, room_id: ev.roomId, event_id: ev.eventId };
    for (const userId of facts.recipients) {
      const ruleset = await this.deps.rules.ruleset(userId);
      let displayName: string | undefined;
      if (usesCondition(ruleset, 'contains_display_name')) {
        const memberEventId = facts.memberEventOf.get(userId);
        const name = memberEventId ? (await reader.getEvent(memberEventId))?.pdu.content.displayname : undefined;
        displayName = typeof name === 'string' ? name : undefined;
      }
      const result = evaluate(ruleset, event, {
        userId,
        memberCount: facts.memberCount,
        displayName,
        senderPowerLevel: power.sender,
        notificationLevel: power.notificationLevel,
      });
      if (!result.notify) continue;
      await tx.addNotification(userId, {
        stream: ev.stream,
        roomId: ev.roomId,
        eventId: ev.eventId,
        thread,
        highlight: result.highlight,
        actions: result.actions,
        ts: this.now(),
      });
    }
  }
}

/** One batch's changes to counts, with the notifications it adds visible to its own recounts. */
class CountsTx {
  readonly batch = new Batch();
  readonly notified = new Set<string>();
  readonly read = new Set<string>();
  private readonly counts = new Map<string, { userId: string; roomId: string; counts: RoomCounts; dirty: boolean }>();
  private readonly added = new Map<string, RoomNotification[]>();

  constructor(private readonly repo: NotificationsRepo) {}

  async addNotification(userId: string, rec: NotificationRecord): Promise<void> {
    const entry = await this.load(userId, rec.roomId, true);
    const note: RoomNotification = { stream: rec.stream, thread: rec.thread, highlight: rec.highlight };
    if (countNotification(entry!.counts, note)) entry!.dirty = true;
    this.repo.addNotification(this.batch, userId, rec);
    const k = pairKey(userId, rec.roomId);
    this.added.set(k, [...(this.added.get(k) ?? []), note]);
    this.notified.add(userId);
  }

  /** `create`: also for a user with no counts yet (a receipt); an own event needs none then. */
  async markRead(userId: string, roomId: string, thread: string | undefined, stream: number, create: boolean): Promise<void> {
    const entry = await this.load(userId, roomId, create);
    if (!entry) return;
    const after = [
      ...(await this.repo.roomNotificationsAfter(userId, roomId, stream)),
      ...(this.added.get(pairKey(userId, roomId)) ?? []).filter((n) => n.stream > stream),
    ];
    const before = totalOf(entry.counts);
    if (markRead(entry.counts, thread, stream, after)) {
      entry.dirty = true;
      if (totalOf(entry.counts) < before) this.read.add(userId);
    }
  }

  async commit(): Promise<void> {
    for (const e of this.counts.values()) if (e.dirty) this.repo.putCounts(this.batch, e.userId, e.roomId, e.counts);
    await this.repo.commit(this.batch);
  }

  private async load(userId: string, roomId: string, create: boolean) {
    const k = pairKey(userId, roomId);
    let entry = this.counts.get(k);
    if (!entry) {
      const stored = await this.repo.counts(userId, roomId);
      if (!stored && !create) return undefined;
      entry = { userId, roomId, counts: stored ?? emptyCounts(), dirty: !stored };
      this.counts.set(k, entry);
    }
    return entry;
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
    roomVersion: (roomId) => reader.roomVersion(roomId),
    stateEntriesAt: (ids, keys, at) => reader.stateEntriesAt(ids, keys, at),
    getEvents: (ids) => reader.getEvents(ids),
    getEvent: (id) => reader.getEvent(id),
    eventsSince: (after, upTo, limit) => reader.eventsSince(after, upTo, limit),
  };
}

const pairKey = (userId: string, roomId: string) => `${userId}\u0000${roomId}`;

function totalOf(c: RoomCounts): number {
  let n = 0;
  for (const t of Object.values(c.threads)) n += t.n;
  return n;
}

