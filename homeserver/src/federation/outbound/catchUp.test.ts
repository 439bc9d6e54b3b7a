// A local event written just before a crash, whose queue entry never got written, is
// queued after the restart; after a clean stop nothing is queued twice.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTestRooms, requester, type TestRooms } from '../../rooms/testing.js';
import { FederationOutboxRepo } from '../../storage/federationOutboxRepo.js';
import { OutboundCatchUp, OutboxWatermark } from './catchUp.js';
import { FederationSender } from './sender.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sender and catch-up as main.ts wires them, over `t`, with a remote member in every room. */
function outbound(t: TestRooms) {
  const queued: string[] = [];
  // A remote member (@hana:hr.test) in every room.
  const reader = { joinedServers: async (r: string) => [...(await t.rooms.reader.joinedServers(r)), 'hr.test'] };
  const queues = { enqueuePdu: async (_d: readonly string[], id: string) => void queued.push(id), enqueueEdu: async () => {} };
  const watermark = new OutboxWatermark();
  const errors: unknown[] = [];
  const sender = new FederationSender({ serverName: 'test.parley', reader, queues, onError: (e) => errors.push(e), watermark });
  const catchUp = new OutboundCatchUp({
    cursor: new FederationOutboxRepo(t.db),
    reader: t.rooms.reader,
    persistedStream: () => t.counter.persisted,
    watermark,
    enqueue: (e) => sender.enqueueEvent(e),
    idle: () => sender.idle(),
    onError: (e) => errors.push(e),
    saveEveryMs: 5,
  });
  return { queued, sender, catchUp, errors };
}

const send = (t: TestRooms, roomId: string, body: string) =>
  t.rooms.events.send(requester('alice'), roomId, 'm.room.message', body, { msgtype: 'm.text', body });

test('it should queue after a restart the local events whose queueing a crash cut off', async () => {
  let t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' } as never);
    const first = outbound(t);
    await first.catchUp.start();
    assert.deepEqual(first.queued, [], 'events from before the cursor existed are not queued again');
    const seen = t.outputs.length;
    const m0 = await send(t, roomId, 'm0');
    for (const o of t.outputs.slice(seen)) first.sender.onRoomOutput(o);
    await first.sender.idle();
    assert.deepEqual(first.queued, [m0]);
    await sleep(40); // the cursor is saved (one period late)
    // Written, but the process dies before the sender hears of them.
    const m1 = await send(t, roomId, 'm1');
    const m2 = await send(t, roomId, 'm2');
    t = await t.reopen();

    const second = outbound(t);
    await second.catchUp.start();
    await second.sender.idle();
    assert.deepEqual(second.queued, [m1, m2], 'exactly the events that never reached the queue, in order');
    assert.deepEqual([...first.errors, ...second.errors], []);
    await second.catchUp.stop();
  } finally {
    await t.dispose();
  }
});

test('it should queue nothing again after a clean stop', async () => {
  let t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' } as never);
    const first = outbound(t);
    await first.catchUp.start();
    const seen = t.outputs.length;
    const ids = [await send(t, roomId, 'a'), await send(t, roomId, 'b')];
    for (const o of t.outputs.slice(seen)) first.sender.onRoomOutput(o);
    await first.catchUp.stop();
    assert.deepEqual(first.queued, ids);
    t = await t.reopen();
    const second = outbound(t);
    await second.catchUp.start();
    await second.sender.idle();
    assert.deepEqual(second.queued, []);
  } finally {
    await t.dispose();
  }
});

test('it should not count a position as queued while an earlier one is still on its way', () => {
  const w = new OutboxWatermark();
  w.begin(5);
  w.begin(7);
  w.end(7);
  assert.equal(w.safe(), 4);
  w.end(5);
  assert.equal(w.safe(), 7);
});
