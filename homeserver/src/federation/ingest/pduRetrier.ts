// A PDU of a transaction we acknowledged is ours to keep, even when it cannot be taken in at
// once: filling its holes needs the origin (get_missing_events, state_ids) and the origin did
// not answer (it was restarting, overloaded, or unreachable from here). The origin will not
// send it again, and nothing may ever refer to it again, so it would be lost. Such PDUs are
// kept durably and taken in again: when the origin next talks to us, and on a timer with
// backoff, for up to a day. Synapse drops them (it relies on a later event referring to them).
// Spec: server-server-api.md "Transactions" (the receiver answers each PDU; the sender does
// not retry PDUs it was answered for), "Backfilling and retrieving missing events".
import type { PendingEntry, PendingPdu } from '../../storage/pendingPdusRepo.js';

export interface PendingStore {
  put(origin: string, eventId: string, entry: PendingPdu): Promise<void>;
  get(origin: string, eventId: string): Promise<PendingPdu | undefined>;
  delete(origin: string, eventId: string): Promise<void>;
  list(origin?: string): Promise<PendingEntry[]>;
}

export interface PduRetrierDeps {
  store: PendingStore;
  /** Take PDUs from `origin` in again (RemoteIngest.ingestPdus); a passing failure calls keep() again. */
  ingest: (origin: string, pdus: unknown[]) => Promise<unknown>;
  now?: () => number;
  /** First wait; doubled per attempt up to MAX_WAIT_MS. */
  firstWaitMs?: number;
  onWarning?: (msg: string, extra?: Record<string, unknown>) => void;
}

const MAX_WAIT_MS = 60 * 60_000;
const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

export class PduRetrier {
  private readonly now: () => number;
  /** Origins with PDUs kept (loaded at start): an inbound request from any other costs nothing. */
  private readonly origins = new Set<string>();
  /** Keys (origin, event) being taken in again now, and those of them that failed again. */
  private readonly inFlight = new Set<string>();
  private readonly failedAgain = new Set<string>();
  /** Origins whose retry is queued, not yet started. */
  private readonly wokenOrigins = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: PduRetrierDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Load what a previous run kept and schedule it. */
  async start(): Promise<void> {
    for (const e of await this.deps.store.list()) this.origins.add(e.origin);
    await this.schedule();
  }

  /** The ingest could not take this PDU in for a passing reason: keep it (durable before returning). */
  async keep(origin: string, eventId: string, pdu: unknown): Promise<void> {
    const k = keyOf(origin, eventId);
    if (this.inFlight.has(k)) this.failedAgain.add(k);
    await this.putBack(origin, eventId, pdu);
    this.origins.add(origin);
    if (!this.inFlight.has(k)) void this.schedule();
  }

  /** Store (again) with one more attempt counted and the next one backed off. */
  private async putBack(origin: string, eventId: string, pdu: unknown): Promise<void> {
    const now = this.now();
    const known = await this.deps.store.get(origin, eventId);
    const attempts = (known?.attempts ?? 0) + 1;
    const wait = Math.min((this.deps.firstWaitMs ?? 30_000) * 2 ** (attempts - 1), MAX_WAIT_MS);
    await this.deps.store.put(origin, eventId, { pdu, firstTs: known?.firstTs ?? now, attempts, nextTs: now + wait });
  }

  /** `origin` talked to us, so it is up: take its kept PDUs in again now (resolves when done). */
  onPeerActivity(origin: string): Promise<void> {
    if (!this.origins.has(origin)) return Promise.resolve();
    // Every request of a busy origin lands here: one retry of its PDUs waiting at a time.
    if (this.wokenOrigins.has(origin)) return this.running;
    this.wokenOrigins.add(origin);
    return this.retry((e) => e.origin === origin, () => this.wokenOrigins.delete(origin));
  }

  /** Take in again every kept PDU that is due (tests; the timer). */
  retryDue(): Promise<void> {
    const now = this.now();
    return this.retry((e) => e.nextTs <= now);
  }

  /** Stop the timer; waits for a retry under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private retry(which: (e: PendingEntry) => boolean, starting?: () => void): Promise<void> {
    this.running = this.running
      .then(() => {
        starting?.();
        return this.retryNow(which);
      })
      .catch((err: unknown) => this.deps.onWarning?.('retrying kept PDUs failed', { err: String(err) }));
    return this.running;
  }

  private async retryNow(which: (e: PendingEntry) => boolean): Promise<void> {
    if (this.stopped) return;
    const entries = (await this.deps.store.list()).filter(which);
    // Oldest first, so that each one's prev events are in before it.
    entries.sort((a, b) => depthOf(a.pdu) - depthOf(b.pdu));
    for (const e of entries) {
      if (this.stopped) return;
      if (this.now() - e.firstTs > GIVE_UP_AFTER_MS) {
        this.deps.onWarning?.('giving up on a PDU that could not be taken in for a day', { origin: e.origin, eventId: e.eventId, attempts: e.attempts });
        await this.deps.store.delete(e.origin, e.eventId);
        continue;
      }
      const k = keyOf(e.origin, e.eventId);
      this.inFlight.add(k);
      try {
        await this.deps.ingest(e.origin, [e.pdu]);
        // Taken in, or refused for good (its result says why): either way no longer ours to keep.
        if (!this.failedAgain.has(k)) await this.deps.store.delete(e.origin, e.eventId);
      } catch (err) {
        this.deps.onWarning?.('taking a kept PDU in again failed', { origin: e.origin, eventId: e.eventId, err: String(err) });
        await this.putBack(e.origin, e.eventId, e.pdu);
      } finally {
        this.inFlight.delete(k);
        this.failedAgain.delete(k);
      }
    }
    const left = await this.deps.store.list();
    this.origins.clear();
    for (const e of left) this.origins.add(e.origin);
    await this.schedule(left);
  }

  private async schedule(known?: PendingEntry[]): Promise<void> {
    if (this.stopped) return;
    const entries = known ?? (await this.deps.store.list());
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (entries.length === 0) return;
    const next = Math.min(...entries.map((e) => e.nextTs));
    this.timer = setTimeout(() => void this.retryDue(), Math.max(0, next - this.now()));
    this.timer.unref();
  }
}

function keyOf(origin: string, eventId: string): string {
  return `${origin}\u0000${eventId}`;
}

function depthOf(pdu: unknown): number {
  const d = (pdu as { depth?: unknown } | null)?.depth;
  return typeof d === 'number' ? d : 0;
}
