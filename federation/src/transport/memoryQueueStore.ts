// In-memory DestinationQueueStore: the reference behaviour of the port, for tests and
// for running without a database. Contents vanish with the process.
import type { DestinationQueueStore, QueueEntry, QueueItem, RetryState } from '../ports.js';

export class MemoryDestinationQueueStore implements DestinationQueueStore {
  private readonly queues = new Map<string, QueueEntry[]>();
  private readonly nextSeq = new Map<string, number>();
  private readonly retries = new Map<string, RetryState>();

  async append(destination: string, items: readonly QueueItem[], ts: number): Promise<void> {
    const q = this.queues.get(destination) ?? [];
    let seq = this.nextSeq.get(destination) ?? 1;
    for (const item of items) q.push({ seq: seq++, ts, item: structuredClone(item) });
    this.nextSeq.set(destination, seq);
    this.queues.set(destination, q);
  }

  async peek(destination: string, limit: number): Promise<QueueEntry[]> {
    return (this.queues.get(destination) ?? []).slice(0, limit).map((e) => structuredClone(e));
  }

  async ack(destination: string, upToSeq: number): Promise<void> {
    const q = (this.queues.get(destination) ?? []).filter((e) => e.seq > upToSeq);
    if (q.length === 0) this.queues.delete(destination);
    else this.queues.set(destination, q);
  }

  async pendingDestinations(): Promise<string[]> {
    return [...this.queues.keys()];
  }

  async getRetry(destination: string): Promise<RetryState | undefined> {
    return this.retries.get(destination);
  }

  async setRetry(destination: string, state: RetryState | undefined): Promise<void> {
    if (state === undefined) this.retries.delete(destination);
    else this.retries.set(destination, { ...state });
  }

  /** Test helper: how many entries wait for `destination`. */
  size(destination: string): number {
    return this.queues.get(destination)?.length ?? 0;
  }
}
