// Durable /send answers: a transaction retried after a restart gets its first answer without
// being processed again; old answers are pruned.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { transactionRoutes } from '@parley/federation/api/transactions';
import type { InboundTransactionPort } from '@parley/federation/ports';
import { Database } from './db.js';
import { TxnResultsRepo } from './txnResultsRepo.js';

function countingPort(): InboundTransactionPort & { calls: number } {
  const port = {
    calls: 0,
    async ingestPdus(_origin: string, pdus: unknown[]) {
      port.calls++;
      return new Map(pdus.map((p, i) => [`$e${i}`, i === 0 ? {} : { error: `rejected ${String((p as { n: number }).n)}` }]));
    },
    async handleEdus() {},
  };
  return port;
}

test('it should answer a transaction retried after a restart from the stored answer, without processing it again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-txn-'));
  try {
    const body = { origin: 'remote.test', origin_server_ts: 1, pdus: [{ n: 0 }, { n: 1 }] };
    let db = await Database.open(dir);
    const port = countingPort();
    const [send] = transactionRoutes({ port, results: new TxnResultsRepo(db) });
    const first = await send.handler({ params: { txnId: 't1' }, query: {}, body, origin: 'remote.test' });
    assert.deepEqual(first.body, { pdus: { $e0: {}, $e1: { error: 'rejected 1' } } });
    await db.close();

    db = await Database.open(dir);
    const after = countingPort();
    const [sendAgain] = transactionRoutes({ port: after, results: new TxnResultsRepo(db) });
    const retried = await sendAgain.handler({ params: { txnId: 't1' }, query: {}, body, origin: 'remote.test' });
    assert.deepEqual(retried.body, first.body);
    assert.equal(after.calls, 0);
    // The same txnId from another origin is another transaction.
    await sendAgain.handler({ params: { txnId: 't1' }, query: {}, body, origin: 'other.test' });
    assert.equal(after.calls, 1);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('it should forget stored answers older than the retention when pruned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-txn-'));
  const db = await Database.open(dir);
  try {
    const repo = new TxnResultsRepo(db);
    await repo.put('a.test', 'old', { pdus: {} }, 1_000);
    await repo.put('b.test', 'new', { pdus: { $x: {} } }, 5_000);
    await repo.prune(2_000);
    assert.equal(await repo.get('a.test', 'old'), undefined);
    assert.deepEqual(await repo.get('b.test', 'new'), { pdus: { $x: {} } });
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
