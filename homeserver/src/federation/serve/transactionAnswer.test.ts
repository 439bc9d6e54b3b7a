// The durable answer of PUT /send rides in the same atomic write as the transaction's PDUs:
// one fsync per transaction, and never an answer for PDUs that were not stored (a write that
// fails leaves no answer behind, and the retried transaction is ingested again).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transactionRoutes } from '@parley/federation/api/transactions';
import type { FederationRoute } from '@parley/federation/api/route';
import type { BatchOp } from '../../storage/db.js';
import { TxnResultsRepo } from '../../storage/txnResultsRepo.js';
import { REMOTE, withInboundKit, type InboundKit } from '../testing/inboundKit.js';
import { TransactionAdapter } from './transactionAdapter.js';

function sendRoute(k: InboundKit, repo: TxnResultsRepo): FederationRoute {
  const port = new TransactionAdapter({ ingest: k.ingest, reader: k.rooms.reader, sinks: {}, answers: repo });
  return transactionRoutes({ port, results: repo })[0];
}

const send = (route: FederationRoute, txnId: string, pdus: unknown[]) => route.handler({ params: { txnId }, query: {}, body: { origin: REMOTE, origin_server_ts: 1, pdus }, origin: REMOTE });

/** Counts the database writes (each one fsync'd batch); `fail` makes the next ones throw. */
function watchWrites(k: InboundKit): { count: number; fail: boolean } {
  const w = { count: 0, fail: false };
  const write = k.db.write.bind(k.db);
  k.db.write = async (ops: BatchOp[]) => {
    w.count++;
    if (w.fail) throw new Error('disk full');
    return write(ops);
  };
  return w;
}

/** A room with a remote member, the /send route with durable answers, and `n` messages from bob not sent yet. */
async function setUp(k: InboundKit, n: number) {
  const roomId = await k.createRoom('alice');
  await k.joinRemote(roomId, 'bob');
  const repo = new TxnResultsRepo(k.db);
  const route = sendRoute(k, repo);
  const pdus = Array.from({ length: n }, (_, i) => k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: `m${i}` } }));
  return { repo, route, pdus, writes: watchWrites(k) };
}

test('it should make a transaction and its answer durable in one write', async () => {
  await withInboundKit(async (k) => {
    const { repo, route, pdus, writes } = await setUp(k, 20);

    const reply = await send(route, 't1', pdus.map((e) => e.pdu));

    assert.deepEqual(reply.body, { pdus: Object.fromEntries(pdus.map((e) => [e.eventId, {}])) });
    assert.equal(writes.count, 1);
    assert.deepEqual(await repo.get(REMOTE, 't1'), reply.body);
    assert.ok(await k.rooms.reader.getEvent(pdus[19].eventId));
  });
});

test('it should keep no answer when the PDUs could not be written, and ingest the retried transaction', async () => {
  await withInboundKit(async (k) => {
    const { repo, route, pdus, writes } = await setUp(k, 5);

    writes.fail = true;
    const failed = await send(route, 't1', pdus.map((e) => e.pdu));
    writes.fail = false;

    const results = (failed.body as { pdus: Record<string, { error?: string }> }).pdus;
    for (const e of pdus) assert.match(results[e.eventId]?.error ?? '', /disk full/);
    assert.equal(await repo.get(REMOTE, 't1'), undefined);
    assert.equal(await k.rooms.reader.getEvent(pdus[0].eventId), undefined);

    // The sender retries the same transaction: it is processed again, not answered from memory.
    const retried = await send(route, 't1', pdus.map((e) => e.pdu));
    assert.deepEqual(retried.body, { pdus: Object.fromEntries(pdus.map((e) => [e.eventId, {}])) });
    for (const e of pdus) assert.ok(await k.rooms.reader.getEvent(e.eventId), `PDU ${String(e.pdu.content.body)} stored on retry`);
    assert.deepEqual(await repo.get(REMOTE, 't1'), retried.body);
  });
});
