// Wakes long-polling /sync requests. A held request is a Waiter registered under the
// keys it cares about — its user ID and the IDs of its joined rooms — and a change is
// announced with the keys it touches and its stream position. Waking is a map lookup
// and a Set walk per key; time-outs share ONE timer over a heap of deadlines, so a held
// request costs a few small objects and nothing runs while nothing happens.
//
// A change is only announced to waiters once its position is readable (≤ the stream's
// `persisted`), otherwise a woken request would find nothing and wait again. The last
// position per key is remembered, so a request that registers just after a change it
// did not see returns at once instead of sleeping through it.
//
// Syncs woken by a room event are released once what their answers derive from it is ready
// (`ready`: the unread counts), a slice per event-loop turn, so that a slice's answers are
// built through before the next slice starts: started all at once, a hundred builds would
// advance in step, the push worker's count among them, and even the first answer would
// leave with the last.
import type { RoomOutputs } from '../events/outputs.js';
import type { Clock } from './ports.js';

export type WaitOutcome = 'woken' | 'timeout' | 'closed';

/**
 * Woken waiters released per event-loop turn. A change in a large room wakes thousands of
 * syncs; releasing them all at once would run every one's response build before the
 * sender's own reply or any other I/O. In slices, the rest of the server keeps moving.
 */
export const WAKE_SLICE = 16;

/** The stream counter as the notifier sees it. */
export interface StreamWatch {
  readonly persisted: number;
  onAdvance(listener: (persisted: number) => void): void;
}

/** What a change touches: users (account data, invites…) and rooms (events, typing, receipts). Keys are IDs. */
export interface ChangeKeys {
  users?: Iterable<string>;
  rooms?: Iterable<string>;
}

interface Waiter {
  keys: string[];
  /** The sets it was added to (one per key). */
  sets: WaiterSet[];
  deadline: number;
  resolve: (outcome: WaitOutcome) => void;
  done: boolean;
  /** Woken by a room event at this position, which is not ready yet (see `gated`). */
  gate: number;
}

/**
 * The waiters of one key. A finished waiter is not deleted from the sets of its other keys
 * (a woken large room would otherwise cost a lookup and a delete per member while its answers
 * wait); it is counted as dead there, and a set sheds its dead when they are half of it.
 */
class WaiterSet extends Set<Waiter> {
  dead = 0;

  sweep(): void {
    for (const w of this) if (w.done) this.delete(w);
    this.dead = 0;
  }
}

/** Resolves once what syncs derive from room events up to `pos` is ready (bounded by the caller; never rejects). */
export type ReadyGate = (pos: number) => Promise<void>;

export class SyncNotifier {
  private readonly byKey = new Map<string, WaiterSet>();
  private readonly lastChanged = new Map<string, number>();
  /** The same for changes other than room events (typing, receipts, presence, to-device…): see `quiet`. */
  private readonly lastOther = new Map<string, number>();
  /** Announced changes whose position is not yet readable (`gated`: a room event). */
  private pending: Array<{ pos: number; keys: string[]; gated: boolean }> = [];
  /** Min-heap on deadline. Woken waiters stay until they surface or the heap is compacted. */
  private heap: Waiter[] = [];
  private deadInHeap = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  /** Woken waiters not yet released (see WAKE_SLICE), and whether a release turn is queued. */
  private releasing: Waiter[] = [];
  private releaseHead = 0;
  private releaseQueued = false;
  /** Woken by room events not yet ready (see setReadyGate), in wake order; they join `releasing` once ready. */
  private gated: Waiter[] = [];
  /** The highest position in `gated`, whether `ready` is being awaited, and up to where it resolved. */
  private gatedUpTo = 0;
  private gating = false;
  private readyUpTo = 0;

  /** See setReadyGate. */
  private ready: ReadyGate | undefined;
  /** Waiting for the release queue to empty (see `drained`). */
  private drainWaiters: Array<() => void> = [];

  constructor(
    private readonly stream: StreamWatch,
    private readonly now: Clock = Date.now,
  ) {
    this.startedAt = stream.persisted;
    stream.onAdvance((p) => this.flush(p));
  }

  /** Changes are announced from this position on; what happened before it is unknown here. */
  private readonly startedAt: number;

  /**
   * Whether `since` is a position this notifier can tell "nothing happened after it" for:
   * readable, and not older than this process (a token from before a restart is not).
   */
  knows(since: number): boolean {
    return since >= this.startedAt && since <= this.stream.persisted;
  }

  /**
   * Whether, after `since` (a position `knows` accepts), nothing was announced for the user
   * and nothing but room events for their rooms: then only those rooms' new events can
   * differ between the user's next answer and an empty one (sharedAnswers.ts). Every writer
   * of syncable data announces the users or rooms it touches: account data, to-device
   * messages and the user's own memberships the user, receipts, typing, presence and
   * device-list changes the rooms.
   */
  quiet(userId: string, roomIds: readonly string[], since: number): boolean {
    if ((this.lastChanged.get(userId) ?? -1) > since) return false;
    for (const r of roomIds) if ((this.lastOther.get(r) ?? -1) > since) return false;
    return true;
  }

  /**
   * Release syncs woken by a room event only once `gate` resolves for its position (the
   * unread counts, push/pushWorker.ts countedUpTo). Set once the module that makes them exists.
   */
  setReadyGate(gate: ReadyGate): void {
    this.ready = gate;
  }

  /**
   * Resolves once no woken sync waits for its turn (the release queue is empty, and the last
   * slice had its turn): work that can wait, such as the push worker's durable write, goes
   * after the answers a large room's message released.
   */
  drained(): Promise<void> {
    if (this.releaseHead >= this.releasing.length) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Keys (users, rooms) with held requests registered: none once every request ended. */
  get keysHeld(): number {
    return this.byKey.size;
  }

  /** Number of requests currently held. */
  get waiting(): number {
    return this.heap.length - this.deadInHeap;
  }

  /**
   * Announce a change at stream position `pos`. Call it before the position is finished.
   * `roomEvent`: the syncs it wakes wait for `ready` (see the top of this file).
   */
  notify(pos: number, changed: ChangeKeys, roomEvent = false): void {
    const keys = [...(changed.users ?? []), ...(changed.rooms ?? [])];
    for (const k of keys) if ((this.lastChanged.get(k) ?? -1) < pos) this.lastChanged.set(k, pos);
    if (!roomEvent) for (const k of keys) if ((this.lastOther.get(k) ?? -1) < pos) this.lastOther.set(k, pos);
    if (pos <= this.stream.persisted) this.wake(keys, roomEvent ? pos : 0);
    else this.pending.push({ pos, keys, gated: roomEvent });
  }

  /** Wake syncs on room events and redactions, and the target of every membership change. */
  attach(outputs: RoomOutputs): void {
    outputs.subscribe((out) => {
      if (out.kind === 'new_event') {
        const { pdu, roomId, stream } = out.event;
        const users = pdu.type === 'm.room.member' && typeof pdu.state_key === 'string' ? [pdu.state_key] : [];
        this.notify(stream, { rooms: [roomId], users }, true);
      } else {
        this.notify(out.redaction.stream, { rooms: [out.roomId] }, true);
      }
    });
  }

  /**
   * Wait until something changes for `userId` or one of `roomIds` after position `since`
   * (the position the caller's response was built at), or until `timeoutMs` passes.
   */
  wait(opts: { userId: string; roomIds: Iterable<string>; since: number; timeoutMs: number }): Promise<WaitOutcome> {
    if (this.closed) return Promise.resolve('closed');
    const keys = [opts.userId, ...opts.roomIds];
    const readable = this.stream.persisted;
    for (const k of keys) {
      const last = this.lastChanged.get(k);
      if (last !== undefined && last > opts.since && last <= readable) return Promise.resolve('woken');
    }
    if (opts.timeoutMs <= 0) return Promise.resolve('timeout');
    return new Promise<WaitOutcome>((resolve) => {
      const w: Waiter = { keys, sets: [], deadline: this.now() + opts.timeoutMs, resolve, done: false, gate: 0 };
      for (const k of keys) {
        let set = this.byKey.get(k);
        if (!set) this.byKey.set(k, (set = new WaiterSet()));
        else if (set.dead > 0 && set.dead * 2 >= set.size) set.sweep();
        set.add(w);
        w.sets.push(set);
      }
      this.push(w);
      this.schedule();
    });
  }

  /** Release every held request (shutdown). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.heap) this.finish(w, 'closed');
    this.heap = [];
    this.deadInHeap = 0;
    // Already woken ones keep their outcome, released now.
    this.releasing.push(...this.gated);
    this.gated = [];
    this.release(Infinity);
  }

  private flush(persisted: number): void {
    if (this.pending.length === 0) return;
    const still: typeof this.pending = [];
    for (const p of this.pending) {
      if (p.pos <= persisted) this.wake(p.keys, p.gated ? p.pos : 0);
      else still.push(p);
    }
    this.pending = still;
  }

  private wake(keys: string[], gate: number): void {
    for (const k of keys) {
      const set = this.byKey.get(k);
      if (!set) continue;
      // Every waiter of the key goes: the set goes whole.
      this.byKey.delete(k);
      for (const w of set) this.finish(w, 'woken', true, gate);
    }
    this.scheduleRelease();
    this.openGate();
    if (!this.dropIfIdle() && this.deadInHeap > 64 && this.deadInHeap * 2 > this.heap.length) this.compact();
  }

  /** Nobody left waiting: every set holds only the dead. Drop the timer too, so an idle server holds no handles. */
  private dropIfIdle(): boolean {
    if (this.deadInHeap !== this.heap.length) return false;
    this.byKey.clear();
    this.heap = [];
    this.deadInHeap = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    return true;
  }

  /** `deferred`: queue the release for a later turn (a wake, by a room event at `gate` if > 0); otherwise resolve now. */
  private finish(w: Waiter, outcome: WaitOutcome, deferred = false, gate = 0): void {
    if (w.done) return;
    w.done = true;
    this.deadInHeap++;
    for (const set of w.sets) set.dead++;
    if (!deferred) w.resolve(outcome);
    else if (this.ready && gate > this.readyUpTo) {
      w.gate = gate;
      this.gated.push(w);
      this.gatedUpTo = Math.max(this.gatedUpTo, gate);
    } else this.releasing.push(w);
  }

  /** Wait for `ready` up to the newest gated position, then queue every waiter it covers for release. */
  private openGate(): void {
    if (this.gating || this.gated.length === 0 || !this.ready) return;
    this.gating = true;
    const target = this.gatedUpTo;
    const passed = () => {
      this.gating = false;
      this.readyUpTo = Math.max(this.readyUpTo, target);
      const still: Waiter[] = [];
      for (const w of this.gated) (w.gate <= this.readyUpTo ? this.releasing : still).push(w);
      this.gated = still;
      this.scheduleRelease();
      this.openGate();
    };
    this.ready(target).then(passed, passed);
  }

  private scheduleRelease(): void {
    if (this.releaseQueued || this.releaseHead >= this.releasing.length) return;
    this.releaseQueued = true;
    setImmediate(() => {
      this.releaseQueued = false;
      this.release(WAKE_SLICE);
      this.scheduleRelease();
    });
  }

  /** Resolve up to `n` woken waiters, oldest first. */
  private release(n: number): void {
    const q = this.releasing;
    const end = Math.min(q.length, this.releaseHead + n);
    for (let i = this.releaseHead; i < end; i++) q[i].resolve('woken');
    this.releaseHead = end;
    if (end === q.length) {
      this.releasing = [];
      this.releaseHead = 0;
      // After this slice's builds, which continue in later turns of the queue.
      if (this.drainWaiters.length > 0) {
        const waiters = this.drainWaiters;
        this.drainWaiters = [];
        setImmediate(() => {
          for (const w of waiters) w();
        });
      }
    } else if (this.releaseHead > 4096 && this.releaseHead * 2 > q.length) {
      this.releasing = q.slice(this.releaseHead);
      this.releaseHead = 0;
    }
  }

  // ── deadlines: one timer for the earliest ──────────────────────────────────
  private schedule(): void {
    const head = this.heap[0];
    if (!head || this.closed) return;
    if (head.deadline >= this.timerAt && this.timer) return;
    clearTimeout(this.timer);
    this.timerAt = head.deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, head.deadline - this.now()));
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const t = this.now();
    while (this.heap.length > 0 && this.heap[0].deadline <= t) {
      const w = this.pop();
      if (!w.done) this.finish(w, 'timeout');
      this.deadInHeap--;
      this.forget(w);
    }
    if (!this.dropIfIdle()) this.schedule();
  }

  /** Out of the heap for good: drop the sets of its keys that hold nobody alive (off the wake path). */
  private forget(w: Waiter): void {
    w.sets.forEach((set, i) => {
      if (set.dead >= set.size && this.byKey.get(w.keys[i]) === set) this.byKey.delete(w.keys[i]);
    });
  }

  private compact(): void {
    this.heap = this.heap.filter((w) => !w.done);
    this.deadInHeap = 0;
    for (const [k, set] of this.byKey) {
      if (set.dead >= set.size) this.byKey.delete(k);
      else if (set.dead > 0) set.sweep();
    }
    // Re-heapify bottom-up.
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(w: Waiter): void {
    const h = this.heap;
    h.push(w);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].deadline <= h[i].deadline) break;
      [h[parent], h[i]] = [h[i], h[parent]];
      i = parent;
    }
  }

  private pop(): Waiter {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].deadline < h[m].deadline) m = l;
      if (r < h.length && h[r].deadline < h[m].deadline) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i], h[m]];
      i = m;
    }
  }
}
