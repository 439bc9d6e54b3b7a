// What goes out to other servers when local users act: events written by the real room
// service become queued PDUs for every other server with a joined member, in write
// order; typing and public receipts become EDUs; remote senders' events are not echoed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Edu } from '@parley/federation/ports';
import { openTestRooms, requester, user } from '../../rooms/testing.js';
import { FederationSender } from './sender.js';

function recordingQueues() {
  const pdus: Array<{ destinations: string[]; eventId: string }> = [];
  const edus: Array<{ destinations: string[]; edu: Edu }> = [];
  return {
    pdus,
    edus,
    enqueuePdu: async (destinations: readonly string[], eventId: string) => void pdus.push({ destinations: [...destinations].sort(), eventId }),
    enqueueEdu: async (destinations: readonly string[], edu: Edu) => void edus.push({ destinations: [...destinations].sort(), edu }),
  };
}

const settle = () => new Promise((r) => setTimeout(r, 30));

test('it should queue each local event for every other joined server, in the order written', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' } as never);
    // The servers of remote members as the ingest side would have stored them (@lea:legal.test has left), next to ours.
    const reader = { joinedServers: async (r: string) => [...(await t.rooms.reader.joinedServers(r)), 'hr.test', 'eng.test'] };
    const queues = recordingQueues();
    const errors: unknown[] = [];
    const sender = new FederationSender({ serverName: 'test.parley', reader, queues, onError: (e) => errors.push(e) });
    const before = t.outputs.length;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await t.rooms.events.send(requester('alice'), roomId, 'm.room.message', `txn${i}`, { body: `m${i}`, msgtype: 'm.text' }));
    ids.push(await t.rooms.membership.ban(user('alice'), roomId, '@lea:legal.test', 'spam'));
    for (const out of t.outputs.slice(before)) sender.onRoomOutput(out);
    // A remote user's event, and an outlier, are never sent on by us.
    const ours = t.outputs[t.outputs.length - 1];
    if (ours.kind !== 'new_event') throw new Error('expected an event');
    sender.onRoomOutput({ kind: 'new_event', event: { ...ours.event, eventId: '$remote', pdu: { ...ours.event.pdu, sender: '@hana:hr.test' } } });
    sender.onRoomOutput({ kind: 'new_event', event: { ...ours.event, eventId: '$outlier', outlier: true } });
    await sender.idle(); // every event handed over is queued (no timing guess: CI machines are slow)
    assert.deepEqual(errors, []);
    assert.deepEqual(queues.pdus.map((p) => p.eventId), ids, 'every local event, in write order, nothing else');
    for (const p of queues.pdus.slice(0, 5)) assert.deepEqual(p.destinations, ['eng.test', 'hr.test']);
    assert.deepEqual(queues.pdus[5].destinations, ['eng.test', 'hr.test', 'legal.test'], 'the banned user’s server hears of the ban');
  } finally {
    await t.dispose();
  }
});

test('it should send typing and public receipts as EDUs to the servers in the room', async () => {
  const reader = { joinedServers: async () => ['test.parley', 'hr.test'] };
  const queues = recordingQueues();
  const sender = new FederationSender({ serverName: 'test.parley', reader, queues, onError: (e) => assert.fail(String(e)) });
  sender.typingChanged({ roomId: '!r:test.parley', userId: '@alice:test.parley', typing: true });
  sender.receiptSet({ roomId: '!r:test.parley', userId: '@alice:test.parley', type: 'm.read', eventId: '$e', thread: 'main', ts: 42 });
  await settle();
  await sender.sendToDevice('eng.test', { sender: '@alice:test.parley', type: 'm.room_key_request', message_id: 'm1', messages: { '@ed:eng.test': { D: {} } } });
  await settle();
  assert.deepEqual(queues.edus, [
    { destinations: ['hr.test'], edu: { edu_type: 'm.typing', content: { room_id: '!r:test.parley', user_id: '@alice:test.parley', typing: true } } },
    {
      destinations: ['hr.test'],
      edu: {
        edu_type: 'm.receipt',
        content: { '!r:test.parley': { 'm.read': { '@alice:test.parley': { event_ids: ['$e'], data: { ts: 42, thread_id: 'main' } } } } },
      },
    },
    {
      destinations: ['eng.test'],
      edu: {
        edu_type: 'm.direct_to_device',
        content: { sender: '@alice:test.parley', type: 'm.room_key_request', message_id: 'm1', messages: { '@ed:eng.test': { D: {} } } },
      },
    },
  ]);
});
