// Answers to inbound PUT /send transactions, kept for a day so a transaction retried after a
// restart is answered, not processed again (federation TransactionResultStore).
// Layouts: schema.ts origintxn_result, tsorigintxn_result.
import type { JsonObject } from '@parley/federation/core/types';
import type { TransactionResultStore } from '@parley/federation/ports';
import { Batch } from './batch.js';
import type { BatchOp, Database } from './db.js';
import { key, splitStrings } from './keys.js';

interface TxnResultRecord {
  ts: number;
  answer: JsonObject;
}

/** Entries removed per prune batch. */
const PRUNE_BATCH = 1000;

export class TxnResultsRepo implements TransactionResultStore {
  constructor(private readonly db: Database) {}

  async get(origin: string, txnId: string): Promise<JsonObject | undefined> {
    return (await this.db.get<TxnResultRecord>('origintxn_result', key(origin, txnId)))?.answer;
  }

  async put(origin: string, txnId: string, answer: JsonObject, ts: number): Promise<void> {
    const batch = new Batch();
    this.stage(batch, origin, txnId, answer, ts);
    await batch.commit(this.db);
  }

  /** Stage an answer into another write (the transaction's last PDUs: durable together or not at all). */
  stage(batch: Batch, origin: string, txnId: string, answer: JsonObject, ts: number): void {
    batch.add(
      this.db.put('origintxn_result', key(origin, txnId), { ts, answer } satisfies TxnResultRecord),
      this.db.put('tsorigintxn_result', key(ts, origin, txnId), true),
    );
  }

  async prune(beforeTs: number): Promise<void> {
    for (;;) {
      const rows = await this.db.range<true>('tsorigintxn_result', { lt: key(beforeTs), limit: PRUNE_BATCH });
      if (rows.length === 0) return;
      const ops: BatchOp[] = [];
      for (const [k] of rows) {
        const [origin, txnId] = splitStrings(k.subarray(8));
        ops.push(this.db.del('tsorigintxn_result', k), this.db.del('origintxn_result', key(origin, txnId)));
      }
      await this.db.write(ops);
    }
  }
}
