// Outgoing transactions: one persisted, ordered queue per destination, drained by an
// independent loop per destination, one transaction in flight at a time, with backoff.
// Spec: server-server-api.md "Transactions" (≤50 PDUs, ≤100 EDUs; retry until 200 before
// using a new txnId), transactions.yaml.
//
// Backoff: 1 s after the first failure, doubling to a 1 h cap, minus up to 20% jitter
// (so many servers recovering together do not stampede). Department servers sit on the
// same network, so a short first retry hides restarts; the cap bounds how stale a peer
// can get. Any inbound request from the peer (onPeerActivity) ends the backoff at once,
// as in Synapse. A 429's Retry-After is honoured when longer.
import type { JsonObject, Pdu } from '../core/types.js';
import type { DestinationQueueStore, Edu, PduSource, QueueEntry, QueueItem, RetryState } from '../ports.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { FederationFailure, FederationRequester } from './federationClient.js';

export const MAX_PDUS_PER_TXN = 50;
export const MAX_EDUS_PER_TXN = 100;

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** Fraction (0–1) of the delay randomly taken off. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 3_600_000, multiplier: 2, jitter: 0.2 };

export interface DestinationQueuesOptions {
  /** Our server name (the transaction's `origin`). */
  origin: string;
  store: DestinationQueueStore;
  pdus: PduSource;
  requester: FederationRequester;
  clock?: Clock;
  backoff?: Partial<BackoffPolicy>;
  random?: () => number;
  /** The peer's per-PDU results of an accepted transaction (errors are worth logging). */
  onSent?: (destination: string, txnId: string, results: unknown) => void;
  /** A batch the peer (or our policy) refused for good; it is dropped so the queue moves on. */
  onDropped?: (destination: string, entries: QueueEntry[], failure: FederationFailure) => void;
  /** A failed attempt (before backoff) or an internal error. */
  onError?: (destination: string, error: unknown) => void;
}

interface DestinationState {
  sending: boolean;
  /** More work arrived while sending. */
  kicked: boolean;
  retry: RetryState | undefined;
  timer: TimerHandle | undefined;
  /** Last seq of a transaction that failed: retried unchanged (same txnId) before anything newer. */
  pinnedLastSeq: number | undefined;
}

export class DestinationQueues {
  private readonly states = new Map<string, DestinationState>();
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private stopped = false;

  constructor(private readonly opts: DestinationQueuesOptions) {
    this.clock = opts.clock ?? systemClock;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  }

  /** Resume every destination that still has queued entries (call once on startup). */
  async start(): Promise<void> {
    for (const destination of await this.opts.store.pendingDestinations()) {
      const state = this.state(destination);
      state.retry = await this.opts.store.getRetry(destination);
      this.kick(destination);
    }
  }

  /** Persist `items` for each destination, then return; sending happens in the background. */
  async enqueue(destinations: readonly string[], items: readonly QueueItem[]): Promise<void> {
    if (items.length === 0) return;
    const ts = this.clock.now();
    const targets = [...new Set(destinations)].filter((d) => d !== this.opts.origin);
    await Promise.all(targets.map((d) => this.opts.store.append(d, items, ts)));
    for (const d of targets) this.kick(d);
  }

  enqueuePdu(destinations: readonly string[], eventId: string): Promise<void> {
    return this.enqueue(destinations, [{ kind: 'pdu', eventId }]);
  }

  enqueueEdu(destinations: readonly string[], edu: Edu): Promise<void> {
    return this.enqueue(destinations, [{ kind: 'edu', edu }]);
  }

  /** The peer talked to us, so it is up: drop its backoff and send what is waiting. */
  onPeerActivity(destination: string): void {
    const state = this.states.get(destination);
    if (state?.retry === undefined) return;
    state.retry = undefined;
    state.timer?.cancel();
    state.timer = undefined;
    this.opts.store.setRetry(destination, undefined).catch((e) => this.opts.onError?.(destination, e));
    this.kick(destination);
  }

  /** Backoff state, for admin/status pages. */
  retryState(destination: string): RetryState | undefined {
    return this.states.get(destination)?.retry;
  }

  /** Stop timers and new attempts; a transaction already in flight completes on its own. */
  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) s.timer?.cancel();
  }

  private state(destination: string): DestinationState {
    let s = this.states.get(destination);
    if (s === undefined) {
      s = { sending: false, kicked: false, retry: undefined, timer: undefined, pinnedLastSeq: undefined };
      this.states.set(destination, s);
    }
    return s;
  }

  private kick(destination: string): void {
    if (this.stopped) return;
    const state = this.state(destination);
    if (state.sending) {
      state.kicked = true;
      return;
    }
    const wait = state.retry === undefined ? 0 : state.retry.retryAtTs - this.clock.now();
    if (wait > 0) {
      // Backing off: new entries wait for the timer (or for the peer to show up).
      state.timer ??= this.clock.schedule(wait, () => {
        state.timer = undefined;
        this.kick(destination);
      });
      return;
    }
    state.sending = true;
    state.kicked = false;
    this.drain(destination, state)
      .catch((err) => this.fail(destination, state, err))
      .finally(() => {
        state.sending = false;
        if (state.kicked) this.kick(destination);
        else if (this.states.get(destination) === state && state.retry === undefined && state.timer === undefined) {
          this.states.delete(destination); // idle and healthy: nothing to remember
        }
      });
  }

  /** Send transactions until the queue is empty or one fails. */
  private async drain(destination: string, state: DestinationState): Promise<void> {
    while (!this.stopped) {
      const entries = await this.opts.store.peek(destination, MAX_PDUS_PER_TXN + MAX_EDUS_PER_TXN);
      const batch = takeBatch(entries, state.pinnedLastSeq);
      if (batch.length === 0) {
        state.pinnedLastSeq = undefined;
        return;
      }
      const first = batch[0];
      const last = batch[batch.length - 1];
      // Same entries ⇒ same ID (so a retry is deduplicated by the peer); the first entry's
      // time keeps IDs unique even if the store's sequence were ever reset.
      const txnId = `${first.ts}_${first.seq}_${last.seq}`;
      const body = await this.transaction(batch);
      if (body.pdus.length === 0 && body.edus.length === 0) {
        await this.opts.store.ack(destination, last.seq); // every PDU has gone from the store
        continue;
      }
      state.pinnedLastSeq = last.seq;
      const res = await this.opts.requester.request({
        destination,
        method: 'PUT',
        path: `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`,
        body: body as unknown as JsonObject,
      });
      if (res.ok) this.opts.onSent?.(destination, txnId, res.body);
      else if (res.status >= 200 && res.status < 300) this.opts.onSent?.(destination, txnId, undefined); // 2xx, unreadable body: still delivered
      else if (isPermanent(res)) this.opts.onDropped?.(destination, batch, res);
      else {
        await this.fail(destination, state, res, res.retryAfterMs);
        return;
      }
      await this.opts.store.ack(destination, last.seq);
      state.pinnedLastSeq = undefined;
      if (state.retry !== undefined) {
        state.retry = undefined;
        await this.opts.store.setRetry(destination, undefined);
      }
    }
  }

  private async transaction(batch: QueueEntry[]): Promise<{ origin: string; origin_server_ts: number; pdus: Pdu[]; edus: Edu[] }> {
    const ids = batch.flatMap((e) => (e.item.kind === 'pdu' ? [e.item.eventId] : []));
    const found = ids.length === 0 ? new Map<string, Pdu>() : await this.opts.pdus.getPdus(ids);
    const pdus: Pdu[] = [];
    const edus: Edu[] = [];
    for (const e of batch) {
      if (e.item.kind === 'edu') edus.push(e.item.edu);
      else {
        const pdu = found.get(e.item.eventId);
        if (pdu !== undefined) pdus.push(pdu);
      }
    }
    return { origin: this.opts.origin, origin_server_ts: this.clock.now(), pdus, edus };
  }

  private async fail(destination: string, state: DestinationState, error: unknown, retryAfterMs?: number): Promise<void> {
    this.opts.onError?.(destination, error);
    const failures = (state.retry?.failures ?? 0) + 1;
    const b = this.backoff;
    const base = Math.min(b.maxMs, b.initialMs * b.multiplier ** (failures - 1));
    const delay = Math.max(retryAfterMs ?? 0, Math.round(base * (1 - b.jitter * (this.opts.random ?? Math.random)())));
    state.retry = { failures, retryAtTs: this.clock.now() + delay };
    try {
      await this.opts.store.setRetry(destination, state.retry);
    } catch (e) {
      this.opts.onError?.(destination, e);
    }
    state.kicked = true; // the kick after this attempt arms the timer
  }
}

/**
 * The longest prefix of `entries` within the PDU and EDU limits, so order is kept
 * across kinds. A pinned (previously failed) batch is reproduced exactly.
 */
export function takeBatch(entries: readonly QueueEntry[], pinnedLastSeq?: number): QueueEntry[] {
  const out: QueueEntry[] = [];
  let pdus = 0;
  let edus = 0;
  for (const e of entries) {
    if (pinnedLastSeq !== undefined && e.seq > pinnedLastSeq) break;
    if (e.item.kind === 'pdu' ? pdus === MAX_PDUS_PER_TXN : edus === MAX_EDUS_PER_TXN) break;
    if (e.item.kind === 'pdu') pdus++;
    else edus++;
    out.push(e);
  }
  return out;
}

/**
 * Refusals that retrying cannot fix, so the batch is dropped rather than blocking the
 * queue: malformed/oversized transaction (400, 413), or our server-name policy forbidding
 * the peer. Everything else (network, blocked addresses — DNS may change —, 5xx, 429,
 * 401 while they fetch our keys, 403/404) is retried.
 */
function isPermanent(f: FederationFailure): boolean {
  return f.kind === 'denied' || f.status === 400 || f.status === 413;
}
