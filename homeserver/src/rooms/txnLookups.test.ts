import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TxnScope } from '../storage/txnRepo.js';
import { TxnLookups } from './txnLookups.js';

const scope = (txnId: string): TxnScope => ({ userId: '@a:hs', deviceId: 'PHONE', roomId: '!r:hs', endpoint: 'send:m.room.message', txnId });

/** A store whose reads answer with what was stored when they began, like a read racing a write. */
function store() {
  const rows = new Map<string, string>();
  let reads = 0;
  return {
    rows,
    reads: () => reads,
    read: (s: TxnScope) => {
      reads++;
      const v = rows.get(JSON.stringify(s));
      return new Promise<string | undefined>((resolve) => setImmediate(() => resolve(v)));
    },
  };
}

test('it should find a transaction committed after its lookup began, which the read itself missed', async () => {
  const db = store();
  const txns = new TxnLookups(db.read);
  const first = txns.begin(scope('t1'));
  const retry = txns.begin(scope('t1'));
  // The first request's event is written while the retry's read is under way.
  db.rows.set(first.key, '$first');
  txns.committed(first.key, '$first');
  assert.equal(await retry.read, undefined, 'the read began before the write');
  assert.equal(await txns.existing(retry), '$first');
  assert.equal(await txns.existing(txns.begin(scope('t2'))), undefined, 'another transaction is new');
});

test('it should read again for a lookup that more commits passed than it remembers', async () => {
  const db = store();
  const txns = new TxnLookups(db.read, 2);
  const stale = txns.begin(scope('t1'));
  db.rows.set(stale.key, '$t1');
  txns.committed(stale.key, '$t1');
  for (const t of ['t2', 't3']) {
    const k = JSON.stringify(scope(t));
    db.rows.set(k, `$${t}`);
    txns.committed(k, `$${t}`);
  }
  // t1 is no longer remembered and the lookup's own read missed it: only a new read finds it.
  const before = db.reads();
  assert.equal(await txns.existing(stale), '$t1');
  assert.equal(db.reads(), before + 1);
  // One stored before (by an earlier run of the server) is found by the lookup's own read.
  db.rows.set(JSON.stringify(scope('t0')), '$t0');
  assert.equal(await txns.existing(txns.begin(scope('t0'))), '$t0');
  assert.equal(db.reads(), before + 2);
});

test('it should fail the append whose lookup failed, and only when that append asks', async () => {
  const txns = new TxnLookups(() => Promise.reject(new Error('disk gone')));
  const lookup = txns.begin(scope('t1'));
  await new Promise((resolve) => setImmediate(resolve));
  await assert.rejects(txns.existing(lookup), /disk gone/);
});
