// Evaluation of real room events for their recipients: unread counts (per thread) that
// rise with new events and fall when receipts move, GET /notifications, and resuming
// after a stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toClientEvent } from '../events/clientEvent.js';
import { RoomOutputs } from '../events/outputs.js';
import { unreadForSync } from './counts.js';
import { createPushModule } from './pushModule.js';
import { C, withPushServer, type PushHarness, type TestUser } from './testHarness.js';

async function roomWith(h: PushHarness, creator: TestUser, others: TestUser[], req = {}): Promise<string> {
  const roomId = await h.createRoom(creator, { preset: 'public_chat', ...req });
  for (const u of others) await h.join(u, roomId);
  return roomId;
}

const text = (body: string, extra: Record<string, unknown> = {}) => ({ msgtype: 'm.text', body, ...extra });

async function counts(h: PushHarness, u: TestUser, roomId: string) {
  return (await h.push.unreadCounts(u.userId, roomId, { upTo: h.stream.persisted })).total;
}

test('it should count messages from others and their highlights, but not the sender\'s own or member events', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob, carol] = [h.user('alice'), h.user('bob'), h.user('carol')];
    const roomId = await roomWith(h, alice, [bob, carol]);
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 0, highlight_count: 0 }, 'joins do not notify');
    await h.send(alice, roomId, text('hello'));
    await h.send(alice, roomId, text('bob, look', { 'm.mentions': { user_ids: [bob.userId] } }));
    await h.send(alice, roomId, text('just an edit', { 'm.relates_to': { rel_type: 'm.replace', event_id: '$x' } }));
    await h.send(alice, roomId, { msgtype: 'm.notice', body: 'bot says hi' });
    // No settle: unreadCounts with upTo waits until the events are evaluated.
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 2, highlight_count: 1 });
    assert.deepEqual(await counts(h, carol, roomId), { notification_count: 2, highlight_count: 0 });
    assert.deepEqual(await counts(h, alice, roomId), { notification_count: 0, highlight_count: 0 });
    assert.deepEqual(h.errors, []);
  });
});

test('it should reset counts when the read receipt moves past the events, and when the user sends', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob, h.user('carol')]);
    const first = await h.send(alice, roomId, text('one', { 'm.mentions': { user_ids: [bob.userId] } }));
    const second = await h.send(alice, roomId, text('two'));
    await h.send(alice, roomId, text('three', { 'm.mentions': { user_ids: [bob.userId] } }));
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 3, highlight_count: 2 });
    await h.push.receiptMoved(bob.userId, roomId, first);
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 2, highlight_count: 1 });
    await h.push.receiptMoved(bob.userId, roomId, second);
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 1, highlight_count: 1 });
    // A receipt never moves backwards.
    await h.push.receiptMoved(bob.userId, roomId, first);
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 1, highlight_count: 1 });
    // Sending an event reads up to it.
    await h.send(bob, roomId, text('reply'));
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 0, highlight_count: 0 });
    await h.send(alice, roomId, text('four'));
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 1, highlight_count: 0 });
  });
});

test('it should count threads apart and clear them with threaded and unthreaded receipts', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob, h.user('carol')]);
    const root = await h.send(alice, roomId, text('root'));
    const inThread = (body: string, extra = {}) => text(body, { 'm.relates_to': { rel_type: 'm.thread', event_id: root }, ...extra });
    await h.send(alice, roomId, inThread('t1'));
    const t2 = await h.send(alice, roomId, inThread('t2', { 'm.mentions': { user_ids: [bob.userId] } }));
    const main2 = await h.send(alice, roomId, text('main again'));
    let s = await h.push.unreadCounts(bob.userId, roomId, { upTo: h.stream.persisted });
    assert.deepEqual(s.total, { notification_count: 4, highlight_count: 1 });
    assert.deepEqual(s.main, { notification_count: 2, highlight_count: 0 });
    assert.deepEqual(s.threads, { [root]: { notification_count: 2, highlight_count: 1 } });
    assert.deepEqual(unreadForSync(s, false), { unread_notifications: { notification_count: 4, highlight_count: 1 } });
    assert.deepEqual(unreadForSync(s, true), {
      unread_notifications: { notification_count: 2, highlight_count: 0 },
      unread_thread_notifications: { [root]: { notification_count: 2, highlight_count: 1 } },
    });

    await h.push.receiptMoved(bob.userId, roomId, t2, root);
    s = await h.push.unreadCounts(bob.userId, roomId);
    assert.deepEqual(s.threads, {}, 'the threaded receipt cleared the thread');
    assert.deepEqual(s.main, { notification_count: 2, highlight_count: 0 }, 'but not the main timeline');

    await h.push.receiptMoved(bob.userId, roomId, root, 'main');
    assert.deepEqual((await h.push.unreadCounts(bob.userId, roomId)).main, { notification_count: 1, highlight_count: 0 });

    await h.send(alice, roomId, inThread('t3'));
    await h.push.receiptMoved(bob.userId, roomId, main2);
    s = await h.push.unreadCounts(bob.userId, roomId, { upTo: h.stream.persisted });
    assert.deepEqual(s.main, { notification_count: 0, highlight_count: 0 });
    assert.deepEqual(s.threads, { [root]: { notification_count: 1, highlight_count: 0 } }, 't3 comes after the unthreaded receipt');
  });
});

test('it should notify an invited local user of their invite', async () => {
  await withPushServer({}, async (h) => {
    const [alice, dave] = [h.user('alice'), h.user('dave')];
    const roomId = await h.createRoom(alice, { preset: 'private_chat' });
    await h.rooms.membership.invite(alice.userId, roomId, dave.userId);
    assert.deepEqual(await counts(h, dave, roomId), { notification_count: 1, highlight_count: 0 });
    const list = await h.call('GET', `${C}/notifications`, { token: dave.token });
    assert.equal(list.json.notifications[0].event.type, 'm.room.member');
    assert.deepEqual(list.json.notifications[0].actions, ['notify', { set_tweak: 'sound', value: 'default' }]);
  });
});

test('it should list notifications newest first with read flags, highlights only, and pagination', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob, h.user('carol')]);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const mention = i % 2 === 0 ? { 'm.mentions': { user_ids: [bob.userId] } } : {};
      sent.push(await h.send(alice, roomId, text(`m${i}`, mention)));
    }
    await h.settle();
    await h.push.receiptMoved(bob.userId, roomId, sent[1]);

    const all = await h.call('GET', `${C}/notifications`, { token: bob.token });
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.notifications.map((n: any) => n.event.event_id), [...sent].reverse());
    assert.deepEqual(all.json.notifications.map((n: any) => n.read), [false, false, false, true, true]);
    const first = all.json.notifications[0];
    assert.equal(first.room_id, roomId);
    assert.equal(first.event.content.body, 'm4');
    assert.equal(typeof first.ts, 'number');
    assert.deepEqual(first.actions, ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }]);
    assert.equal(all.json.next_token, undefined);

    const highlights = await h.call('GET', `${C}/notifications?only=highlight`, { token: bob.token });
    assert.deepEqual(highlights.json.notifications.map((n: any) => n.event.content.body), ['m4', 'm2', 'm0']);

    const page1 = await h.call('GET', `${C}/notifications?limit=2`, { token: bob.token });
    assert.deepEqual(page1.json.notifications.map((n: any) => n.event.content.body), ['m4', 'm3']);
    const page2 = await h.call('GET', `${C}/notifications?limit=2&from=${page1.json.next_token}`, { token: bob.token });
    assert.deepEqual(page2.json.notifications.map((n: any) => n.event.content.body), ['m2', 'm1']);
    const page3 = await h.call('GET', `${C}/notifications?limit=2&from=${page2.json.next_token}`, { token: bob.token });
    assert.deepEqual(page3.json.notifications.map((n: any) => n.event.content.body), ['m0']);
    assert.equal(page3.json.next_token, undefined);

    const hl1 = await h.call('GET', `${C}/notifications?only=highlight&limit=1`, { token: bob.token });
    const hl2 = await h.call('GET', `${C}/notifications?only=highlight&limit=1&from=${hl1.json.next_token}`, { token: bob.token });
    assert.deepEqual([...hl1.json.notifications, ...hl2.json.notifications].map((n: any) => n.event.content.body), ['m4', 'm2']);

    const bad = await h.call('GET', `${C}/notifications?from=abc`, { token: bob.token });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
  });
});

test('it should evaluate events written while it was stopped when it starts again, exactly once', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob, h.user('carol')]);
    await h.send(alice, roomId, text('before'));
    await h.settle();
    await h.push.close();
    await h.send(alice, roomId, text('while stopped'));
    await h.send(alice, roomId, text('also while stopped', { 'm.mentions': { user_ids: [bob.userId] } }));

    const again = createPushModule({
      db: h.db,
      reader: h.rooms.reader,
      outputs: new RoomOutputs(),
      stream: h.stream,
      serverName: 'example.test',
      format: toClientEvent,
    });
    try {
      await again.start();
      const c = await again.unreadCounts(bob.userId, roomId, { upTo: h.stream.persisted });
      assert.deepEqual(c.total, { notification_count: 3, highlight_count: 1 });
    } finally {
      await again.close();
    }
    const third = createPushModule({
      db: h.db,
      reader: h.rooms.reader,
      outputs: new RoomOutputs(),
      stream: h.stream,
      serverName: 'example.test',
      format: toClientEvent,
    });
    try {
      await third.start();
      const c = await third.unreadCounts(bob.userId, roomId, { upTo: h.stream.persisted });
      assert.deepEqual(c.total, { notification_count: 3, highlight_count: 1 }, 'a restart counts nothing twice');
    } finally {
      await third.close();
    }
  });
});

test('it should honour the user\'s own rules when counting', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob, h.user('carol')]);
    // Mute the room, but highlight anything about cake.
    await h.call('PUT', `${C}/pushrules/global/room/${encodeURIComponent(roomId)}`, { token: bob.token, body: { actions: [] } });
    await h.call('PUT', `${C}/pushrules/global/content/cake`, { token: bob.token, body: { pattern: 'cake', actions: ['notify', { set_tweak: 'highlight' }] } });
    await h.send(alice, roomId, text('hello'));
    await h.send(alice, roomId, text('there is cake!'));
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 1, highlight_count: 1 });
  });
});
