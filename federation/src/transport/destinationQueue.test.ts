import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pdu } from '../core/types.js';
import type { PduSource, QueueItem } from '../ports.js';
import type { Clock } from './clock.js';
import { DestinationQueues, type DestinationQueuesOptions } from './destinationQueue.js';
import type { FederationRequest, FederationResult } from './federationClient.js';
import { MemoryDestinationQueueStore } from './memoryQueueStore.js';

interface Timer {
  at: number;
  fn: () => void;
  cancelled: boolean;
}

class FakeClock implements Clock {
  t = 1_000_000;
  timers: Timer[] = [];
  now = () => this.t;
  schedule(ms: number, fn: () => void) {
    const timer = { at: this.t + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  /** Move time forward, firing due timers in order, letting async work settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.t = due.at;
      due.cancelled = true;
      due.fn();
      await settle();
    }
    this.t = end;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

const pduFor = (id: string): Pdu =>
  ({ type: 'm.room.message', sender: '@a:us.test', room_id: '!r:us.test', origin_server_ts: 1, content: { id }, prev_events: [], auth_events: [], depth: 1, hashes: { sha256: 'x' }, signatures: {} }) as Pdu;
const pdus = (missing: Set<string> = new Set()): PduSource => ({
  getPdus: async (ids) => new Map(ids.filter((id) => !missing.has(id)).map((id) => [id, pduFor(id)])),
});
const pduItems = (prefix: string, n: number): QueueItem[] => Array.from({ length: n }, (_, i) => ({ kind: 'pdu', eventId: `$${prefix}${i}` }));
const eduItems = (n: number): QueueItem[] => Array.from({ length: n }, (_, i) => ({ kind: 'edu', edu: { edu_type: 'm.typing', content: { n: i } } }));

type Reply = (req: FederationRequest) => FederationResult | Promise<FederationResult>;
const OK: Reply = () => ({ ok: true, status: 200, body: { pdus: {} } });
const DOWN: Reply = () => ({ ok: false, kind: 'network', status: 0, errcode: 'PARLEY_NETWORK', error: 'refused' });

function setup(reply: { current: Reply }, over: Partial<DestinationQueuesOptions> = {}, store = new MemoryDestinationQueueStore(), clock = new FakeClock()) {
  const sent: FederationRequest[] = [];
  const queues = new DestinationQueues({
    origin: 'us.test',
    store,
    pdus: pdus(),
    clock,
    random: () => 0, // no jitter: exact delays
    requester: { request: async <T>(req: FederationRequest) => (sent.push(req), (await reply.current(req)) as FederationResult<T>) },
    ...over,
  });
  return { queues, sent, store, clock };
}
type Txn = { origin: string; pdus: Pdu[]; edus: { content: { n: number } }[] };
const txn = (r: FederationRequest) => r.body as unknown as Txn;
const ids = (r: FederationRequest) => txn(r).pdus.map((p) => (p.content as { id: string }).id);

test('it should send a destination its entries in order, at most 50 PDUs and 100 EDUs per transaction', async () => {
  const { queues, sent, store } = setup({ current: OK });
  await queues.enqueue(['them.test'], [...pduItems('a', 70), ...eduItems(150), ...pduItems('b', 40)]);
  await settle();
  assert.ok(sent.every((r) => r.method === 'PUT' && r.path.startsWith('/_matrix/federation/v1/send/') && r.destination === 'them.test'));
  assert.ok(sent.every((r) => txn(r).pdus.length <= 50 && txn(r).edus.length <= 100 && txn(r).origin === 'us.test'));
  const allIds = sent.flatMap(ids);
  assert.deepEqual(allIds, [...pduItems('a', 70), ...pduItems('b', 40)].map((i) => (i as { eventId: string }).eventId));
  assert.deepEqual(sent.flatMap((r) => txn(r).edus.map((e) => e.content.n)), Array.from({ length: 150 }, (_, i) => i));
  assert.deepEqual(sent.map((r) => [txn(r).pdus.length, txn(r).edus.length]), [[50, 0], [20, 100], [40, 50]]);
  assert.equal(new Set(sent.map((r) => r.path)).size, sent.length, 'a fresh txnId per transaction');
  assert.equal(store.size('them.test'), 0);
});

test('it should keep one transaction in flight per destination without blocking enqueue or other destinations', async () => {
  const release: (() => void)[] = [];
  const reply = { current: ((req) => (req.destination === 'slow.test' ? new Promise<FederationResult>((r) => release.push(() => r(OK(req) as FederationResult))) : OK(req))) as Reply };
  const { queues, sent, store } = setup(reply);
  await queues.enqueuePdu(['slow.test', 'fast.test', 'us.test'], '$1');
  await queues.enqueuePdu(['slow.test', 'fast.test'], '$2'); // returns although slow.test has not answered
  await settle();
  assert.deepEqual(sent.filter((r) => r.destination === 'fast.test').flatMap(ids), ['$1', '$2']);
  assert.deepEqual(sent.filter((r) => r.destination === 'slow.test').map(ids), [['$1']], 'second waits for the first');
  assert.equal(sent.some((r) => r.destination === 'us.test'), false, 'never to ourselves');
  release.shift()!();
  await settle();
  assert.deepEqual(sent.filter((r) => r.destination === 'slow.test').map(ids), [['$1'], ['$2']]);
  release.shift()!();
  await settle();
  assert.equal(store.size('slow.test'), 0);
});

test('it should back off exponentially up to an hour, retrying the same transaction first', async () => {
  const reply: { current: Reply } = { current: DOWN };
  const { queues, sent, clock } = setup(reply);
  await queues.enqueuePdu(['them.test'], '$1');
  await settle();
  assert.equal(sent.length, 1);
  await queues.enqueuePdu(['them.test'], '$2'); // arrives during backoff: no immediate attempt
  await settle();
  assert.equal(sent.length, 1);
  const delays: number[] = [];
  for (let i = 0; i < 14; i++) {
    const before: number = sent.length;
    const retry = queues.retryState('them.test')!;
    delays.push(retry.retryAtTs - clock.now());
    await clock.advance(retry.retryAtTs - clock.now() - 1);
    assert.equal(sent.length, before, 'not before the backoff ends');
    await clock.advance(1);
    assert.equal(sent.length, before + 1);
  }
  assert.deepEqual(delays.slice(0, 5), [1000, 2000, 4000, 8000, 16000]);
  assert.equal(Math.max(...delays), 3_600_000);
  assert.equal(delays.at(-1), 3_600_000);
  assert.ok(sent.every((r) => r.path === sent[0].path), 'the failed transaction is retried under its txnId');
  assert.ok(sent.every((r) => ids(r).join() === '$1'));
  reply.current = OK;
  await clock.advance(3_600_000);
  assert.deepEqual(sent.slice(-2).map(ids), [['$1'], ['$2']]);
  assert.equal(queues.retryState('them.test'), undefined);
});

test('it should honour Retry-After and resume at once when the peer contacts us', async () => {
  const reply: { current: Reply } = { current: () => ({ ok: false, kind: 'http', status: 429, errcode: 'M_LIMIT_EXCEEDED', error: 'slow', retryAfterMs: 30_000 }) };
  const { queues, sent, clock, store } = setup(reply);
  await queues.enqueuePdu(['them.test'], '$1');
  await settle();
  assert.equal(queues.retryState('them.test')!.retryAtTs - clock.now(), 30_000);
  reply.current = DOWN;
  await clock.advance(30_000);
  assert.equal(sent.length, 2);
  reply.current = OK;
  queues.onPeerActivity('them.test'); // e.g. it sent us a transaction
  await settle();
  assert.equal(sent.length, 3);
  assert.equal(store.size('them.test'), 0);
  assert.equal(await store.getRetry('them.test'), undefined);
  queues.onPeerActivity('idle.test'); // unknown and healthy: nothing happens
});

test('it should resume from the persisted queue and backoff after a restart', async () => {
  const store = new MemoryDestinationQueueStore();
  const clock = new FakeClock();
  const first = setup({ current: DOWN }, {}, store, clock);
  await first.queues.enqueue(['them.test'], [...pduItems('p', 3), ...eduItems(2)]);
  await settle();
  first.queues.stop();
  assert.deepEqual(await store.getRetry('them.test'), { failures: 1, retryAtTs: clock.now() + 1000 });

  const second = setup({ current: OK }, {}, store, clock);
  await second.queues.start();
  await settle();
  assert.equal(second.sent.length, 0, 'the persisted backoff still applies');
  await clock.advance(1000);
  assert.deepEqual(second.sent.map(ids), [['$p0', '$p1', '$p2']]);
  assert.equal(txn(second.sent[0]).edus.length, 2);
  assert.equal(second.sent[0].path, first.sent[0].path, 'same entries, same txnId');
  assert.equal(store.size('them.test'), 0);
  assert.equal(await store.getRetry('them.test'), undefined);
});

test('it should drop a batch the peer rejects as malformed and skip PDUs that no longer exist', async () => {
  const dropped: number[] = [];
  let calls = 0;
  const reply: { current: Reply } = {
    current: () => (++calls === 1 ? { ok: false, kind: 'http', status: 400, errcode: 'M_BAD_JSON', error: 'bad' } : { ok: true, status: 200, body: {} }),
  };
  const { queues, sent, store } = setup(reply, {
    pdus: pdus(new Set(['$gone', '$gone2'])),
    onDropped: (_d, entries) => dropped.push(entries.length),
  });
  await queues.enqueuePdu(['them.test'], '$bad');
  await queues.enqueue(['them.test'], [{ kind: 'pdu', eventId: '$gone' }, { kind: 'pdu', eventId: '$gone2' }]);
  await queues.enqueuePdu(['them.test'], '$next');
  await settle();
  assert.deepEqual(dropped, [1]);
  assert.deepEqual(sent.map(ids).flat(), ['$bad', '$next']);
  assert.equal(store.size('them.test'), 0);
  assert.equal(queues.retryState('them.test'), undefined);
});
