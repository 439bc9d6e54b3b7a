// The outgoing federation queues, one per destination (federation DestinationQueueStore).
// Layout: schema.ts destseq_queueitem, destination_lastseq, destination_retry.
// Each append is one atomic, fsync'd batch holding its entries and the new last seq, so
// what was acknowledged to a local sender is never lost and seqs never go backwards.
import type { DestinationQueueStore, QueueEntry, QueueItem, RetryState } from '@parley/federation/ports';
import { strKey, type Database } from './db.js';
import { key, prefixRange, readU64 } from './keys.js';

interface StoredItem {
  ts: number;
  item: QueueItem;
}

export class FederationQueueRepo implements DestinationQueueStore {
  /** Last seq per destination, loaded once; appends to one destination are serialised. */
  private readonly lastSeq = new Map<string, number>();
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly db: Database) {}

  append(destination: string, items: readonly QueueItem[], ts: number): Promise<void> {
    const prev = this.tails.get(destination) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.appendNow(destination, items, ts));
    const tail = next.catch(() => undefined);
    this.tails.set(destination, tail);
    void tail.then(() => {
      if (this.tails.get(destination) === tail) this.tails.delete(destination);
    });
    return next;
  }

  private async appendNow(destination: string, items: readonly QueueItem[], ts: number): Promise<void> {
    if (items.length === 0) return;
    let seq = this.lastSeq.get(destination) ?? (await this.db.get<number>('destination_lastseq', strKey(destination))) ?? 0;
    const ops = items.map((item) => this.db.put('destseq_queueitem', key(destination, ++seq), { ts, item } satisfies StoredItem));
    ops.push(this.db.put('destination_lastseq', strKey(destination), seq));
    await this.db.write(ops);
    this.lastSeq.set(destination, seq);
  }

  async peek(destination: string, limit: number): Promise<QueueEntry[]> {
    const prefix = key(destination);
    const rows = await this.db.range<StoredItem>('destseq_queueitem', { ...prefixRange(prefix), limit });
    return rows.map(([k, v]) => ({ seq: readU64(k, prefix.length), ts: v.ts, item: v.item }));
  }

  async ack(destination: string, upToSeq: number): Promise<void> {
    const prefix = key(destination);
    const rows = await this.db.range<StoredItem>('destseq_queueitem', { gte: prefix, lte: key(destination, upToSeq) });
    await this.db.write(rows.map(([k]) => this.db.del('destseq_queueitem', k)));
  }

  async pendingDestinations(): Promise<string[]> {
    // Skip from one destination's entries to the next: one seek per destination.
    const out: string[] = [];
    let from: Buffer | undefined;
    for (;;) {
      const [row] = await this.db.range<StoredItem>('destseq_queueitem', { ...(from ? { gte: from } : {}), limit: 1 });
      if (row === undefined) return out;
      const sep = row[0].indexOf(0xff);
      const destination = row[0].toString('utf8', 0, sep);
      out.push(destination);
      from = prefixRange(key(destination)).lt;
    }
  }

  getRetry(destination: string): Promise<RetryState | undefined> {
    return this.db.get<RetryState>('destination_retry', strKey(destination));
  }

  async setRetry(destination: string, state: RetryState | undefined): Promise<void> {
    const k = strKey(destination);
    await this.db.write([state === undefined ? this.db.del('destination_retry', k) : this.db.put('destination_retry', k, state)]);
  }
}
