// The federation stores on a real database: the outgoing queue and the key cache
// survive a restart, seqs never repeat, and a DestinationQueues drains a queue
// persisted by an earlier process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FederationRequest } from '@parley/federation/transport/federationClient';
import { DestinationQueues } from '@parley/federation/transport/destinationQueue';
import type { Pdu } from '@parley/federation/core/types';
import { Database } from './db.js';
import { FederationQueueRepo } from './federationQueueRepo.js';
import { RemoteKeysRepo } from './remoteKeysRepo.js';

const edu = (n: number) => ({ kind: 'edu' as const, edu: { edu_type: 'm.typing', content: { n } } });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-fedrepo-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('it should keep queued items in order across a restart and never reuse a seq after acks', () =>
  withDir(async (dir) => {
    let db = await Database.open(dir);
    let q = new FederationQueueRepo(db);
    await Promise.all([q.append('b.example', [edu(1), edu(2)], 100), q.append('b.example', [edu(3)], 101), q.append('a.example:8448', [{ kind: 'pdu', eventId: '$x' }], 102)]);
    await q.setRetry('b.example', { failures: 3, retryAtTs: 5000 });
    await db.close();

    db = await Database.open(dir);
    q = new FederationQueueRepo(db);
    assert.deepEqual((await q.pendingDestinations()).sort(), ['a.example:8448', 'b.example']);
    const entries = await q.peek('b.example', 10);
    assert.deepEqual(entries.map((e) => [e.seq, (e.item as ReturnType<typeof edu>).edu.content.n]), [[1, 1], [2, 2], [3, 3]]);
    assert.deepEqual(await q.peek('b.example', 2).then((e) => e.length), 2, 'peek honours the limit');
    assert.deepEqual(await q.getRetry('b.example'), { failures: 3, retryAtTs: 5000 });

    await q.ack('b.example', 3);
    assert.deepEqual(await q.pendingDestinations(), ['a.example:8448']);
    await db.close();

    db = await Database.open(dir);
    q = new FederationQueueRepo(db);
    await q.append('b.example', [edu(4)], 200);
    assert.deepEqual((await q.peek('b.example', 10)).map((e) => e.seq), [4], 'seqs continue after everything was acknowledged');
    await q.setRetry('b.example', undefined);
    assert.equal(await q.getRetry('b.example'), undefined);
    await db.close();
  }));

test('it should deliver, after a restart, a transaction queued while the peer was down', () =>
  withDir(async (dir) => {
    let db = await Database.open(dir);
    const down = new DestinationQueues({
      origin: 'us.example',
      store: new FederationQueueRepo(db),
      pdus: { getPdus: async () => new Map() },
      requester: { request: async () => ({ ok: false, kind: 'network', status: 0, errcode: 'PARLEY_NETWORK', error: 'refused' }) },
      backoff: { initialMs: 60_000 },
    });
    await down.enqueue(['peer.example'], [{ kind: 'pdu', eventId: '$e1' }, edu(7)]);
    down.stop();
    await new Promise((r) => setTimeout(r, 50));
    await db.close();

    db = await Database.open(dir);
    const sent: FederationRequest[] = [];
    const pdu = { room_id: '!r:us.example', type: 'm.room.message' } as unknown as Pdu;
    const up = new DestinationQueues({
      origin: 'us.example',
      store: new FederationQueueRepo(db),
      pdus: { getPdus: async (ids) => new Map(ids.map((id) => [id, pdu])) },
      requester: {
        request: async <T>(req: FederationRequest) => {
          sent.push(req);
          return { ok: true as const, status: 200, body: { pdus: {} } as T };
        },
      },
    });
    await up.start();
    assert.equal(sent.length, 0, 'the persisted backoff is honoured after the restart');
    up.onPeerActivity('peer.example'); // the peer talks to us: it is back
    for (let i = 0; i < 100 && (sent.length === 0 || (await new FederationQueueRepo(db).pendingDestinations()).length > 0); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(sent.length, 1);
    assert.equal(sent[0].destination, 'peer.example');
    const body = sent[0].body as { pdus: unknown[]; edus: Array<{ content: unknown }> };
    assert.deepEqual(body.pdus, [pdu]);
    assert.deepEqual(body.edus.map((e) => e.content), [{ n: 7 }]);
    assert.deepEqual(await new FederationQueueRepo(db).pendingDestinations(), [], 'acknowledged entries are gone');
    up.stop();
    await db.close();
  }));

test('it should keep remote server keys across a restart', () =>
  withDir(async (dir) => {
    let db = await Database.open(dir);
    const rec = { serverName: 'hr.example', keys: { 'ed25519:a': { key: 'AAAA', validUntilTs: 99 } }, fetchedTs: 5 };
    await new RemoteKeysRepo(db).save(rec);
    await db.close();
    db = await Database.open(dir);
    assert.deepEqual(await new RemoteKeysRepo(db).load('hr.example'), rec);
    assert.equal(await new RemoteKeysRepo(db).load('other.example'), undefined);
    await db.close();
  }));
