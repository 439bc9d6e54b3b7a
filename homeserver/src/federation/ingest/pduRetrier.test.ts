// A PDU of an acknowledged transaction whose holes cannot be filled because its origin does not
// answer is kept, and taken in once the origin is back: when it next talks to us, or after a
// restart on the retry timer. A real homeserver (LevelDB, rooms, ingest) and a fake remote.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingPdusRepo } from '../../storage/pendingPdusRepo.js';
import { openInboundKit, REMOTE, type InboundKit } from '../testing/inboundKit.js';
import { PduRetrier } from './pduRetrier.js';
import { RemoteIngest } from './remoteIngest.js';

/** The kit's ingest again, with a retrier behind it (as main.ts wires them). */
function withRetrier(k: InboundKit, now: () => number = Date.now): { ingest: RemoteIngest; retrier: PduRetrier; store: PendingPdusRepo } {
  const store = new PendingPdusRepo(k.db);
  const ingest: RemoteIngest = new RemoteIngest({
    serverName: 'us.test',
    reader: k.rooms.reader,
    writer: k.rooms.writer,
    keys: k.fed.keyRing,
    requester: k.net,
    keepForLater: (origin, eventId, pdu) => retrier.keep(origin, eventId, pdu),
  });
  const retrier: PduRetrier = new PduRetrier({ store, ingest: (origin, pdus) => ingest.ingestPdus(origin, pdus), now });
  return { ingest, retrier, store };
}

async function placed(k: InboundKit, eventId: string): Promise<boolean> {
  const e = await k.rooms.reader.getEvent(eventId);
  return e !== undefined && !e.outlier && e.rejected === undefined && e.stream > 0;
}

test('it should keep a PDU whose origin did not answer while its holes were filled, and take it in when the origin talks again', async () => {
  const k = await openInboundKit();
  try {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    const say = (body: string) => k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body } });
    const [m1, m2, m3] = [say('one'), say('two'), say('three')];
    const { ingest, retrier, store } = withRetrier(k);

    // Only the last reaches us, while the origin is unreachable (restarting, say).
    k.net.down.add(REMOTE);
    const res = await ingest.ingestPdus(REMOTE, [m3.pdu]);
    assert.match(res.get(m3.eventId)?.error ?? '', /ECONNREFUSED/, 'answered with the failure, as the spec has it');
    assert.deepEqual((await store.list()).map((e) => e.eventId), [m3.eventId], 'kept durably');
    assert.equal(await placed(k, m3.eventId), false);

    // The origin is back and sends something else: what was kept is taken in, holes filled.
    k.net.down.delete(REMOTE);
    await retrier.onPeerActivity(REMOTE);
    await retrier.stop();
    for (const m of [m1, m2, m3]) assert.ok(await placed(k, m.eventId), `${m.pdu.content.body} is in the timeline`);
    assert.deepEqual(await store.list(), [], 'nothing left to keep');
  } finally {
    await k.close();
  }
});

test('it should take kept PDUs in again after a restart, on the retry timer, and keep those still failing with a longer wait', async () => {
  const k = await openInboundKit();
  try {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    const first = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'missed' } });
    const second = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'kept' } });
    let clock = 1_000_000;
    const before = withRetrier(k, () => clock);
    k.net.down.add(REMOTE);
    await before.ingest.ingestPdus(REMOTE, [second.pdu]);
    await before.retrier.stop();
    const kept = await before.store.get(REMOTE, second.eventId);
    assert.equal(kept?.attempts, 1);

    // A new process: still unreachable when the timer fires, so it waits longer.
    const after = withRetrier(k, () => clock);
    await after.retrier.start();
    clock = kept!.nextTs;
    await after.retrier.retryDue();
    const again = await after.store.get(REMOTE, second.eventId);
    assert.equal(again?.attempts, 2);
    assert.ok(again!.nextTs - clock > kept!.nextTs - kept!.firstTs, 'backed off');
    assert.equal(await placed(k, second.eventId), false);

    // Reachable by the next due time: taken in, with what it was missing.
    k.net.down.delete(REMOTE);
    clock = again!.nextTs;
    await after.retrier.retryDue();
    await after.retrier.stop();
    assert.ok(await placed(k, first.eventId));
    assert.ok(await placed(k, second.eventId));
    assert.deepEqual(await after.store.list(), []);
  } finally {
    await k.close();
  }
});

test('it should not keep a PDU refused for good (a bad signature), only one whose holes could not be filled', async () => {
  const k = await openInboundKit();
  try {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const forged = k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: 'forged' } });
    const pdu = { ...forged.pdu, content: { ...forged.pdu.content, body: 'changed after signing' }, signatures: { [REMOTE]: { 'ed25519:x': 'AAAA' } } };
    const { ingest, retrier, store } = withRetrier(k);
    k.net.down.add(REMOTE);
    const res = await ingest.ingestPdus(REMOTE, [pdu]);
    assert.ok([...res.values()].every((r) => r.error !== undefined));
    await retrier.stop();
    assert.deepEqual(await store.list(), []);
  } finally {
    await k.close();
  }
});
