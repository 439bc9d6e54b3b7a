// A branch made on another server during a partition, reaching us first through a later
// event built on it: the branch is fetched with get_missing_events and placed, oldest first,
// before the event that needed it — also when our side of the fork has grown deeper than the
// branch's first events. Spec: server-server-api.md "Backfilling and retrieving missing events".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REMOTE, withInboundKit as withKit, type InboundKit } from '../testing/inboundKit.js';

async function timelineBodies(k: InboundKit, roomId: string): Promise<string[]> {
  const events = await k.rooms.reader.timeline(roomId, { dir: 'f', limit: 1000 });
  return events.filter((e) => e.pdu.type === 'm.room.message').map((e) => String(e.pdu.content.body));
}

test('it should place a partitioned branch before the merge that references it, even when our side of the fork is deeper', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    const fork = (await k.rooms.reader.forwardExtremities(roomId)).map((x) => x.eventId);
    // Partition: bob's branch (not delivered) and ours, four events deeper than its first event.
    const text = (body: string, prevEvents?: string[]) =>
      k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body }, ...(prevEvents ? { prevEvents } : {}) });
    const b1 = text('bob 1', fork);
    const b2 = text('bob 2', [b1.eventId]);
    const b3 = text('bob 3', [b2.eventId]);
    for (let i = 1; i <= 4; i++) await k.rooms.events.send(alice, roomId, 'm.room.message', `ours-${i}`, { msgtype: 'm.text', body: `ours ${i}` });
    await k.teachRemote(roomId);
    const ours = (await k.rooms.reader.forwardExtremities(roomId)).map((x) => x.eventId);
    // Healed: the merge arrives first; bob's queued branch comes after it.
    const merge = text('merge', [b3.eventId, ...ours]);
    assert.deepEqual((await k.ingest.ingestPdus(REMOTE, [merge.pdu])).get(merge.eventId), {});
    const late = await k.ingest.ingestPdus(REMOTE, [b1.pdu, b2.pdu, b3.pdu]);
    for (const e of [b1, b2, b3]) assert.deepEqual(late.get(e.eventId), {});

    const bodies = await timelineBodies(k, roomId);
    assert.deepEqual(bodies.slice(-4), ['bob 1', 'bob 2', 'bob 3', 'merge'], `timeline: ${bodies.join(', ')}`);
    const gme = k.remote.calls.find((c) => c.path.includes('/get_missing_events/'));
    assert.ok(gme, 'get_missing_events was called');
  });
});
