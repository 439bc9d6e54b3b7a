// Evaluation of real room events for their recipients: unread counts (per thread) that
// rise with new events and fall when receipts move, GET /notifications, and resuming
// after a stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toClientEvent } from '../events/clientEvent.js';
import { RoomOutputs } from '../events/outputs.js';
import type { BatchOp } from '../storage/db.js';
import { key } from '../storage/keys.js';
import { NotificationsRepo } from '../storage/notificationsRepo.js';
import { compileFilter } from '../sync/filterMatch.js';
import { decodeToken } from '../sync/token.js';
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

test('it should answer counts at once only when they need no wait and no read', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob, carol] = [h.user('alice'), h.user('bob'), h.user('carol')];
    const roomId = await roomWith(h, alice, [bob]);
    await h.send(alice, roomId, text('hello'));
    const upTo = h.stream.persisted;
    const waited = await h.push.unreadCounts(bob.userId, roomId, { upTo });
    assert.deepEqual(waited.total, { notification_count: 1, highlight_count: 0 });
    assert.deepEqual(h.push.unreadCountsNow(bob.userId, roomId, upTo), waited);
    assert.equal(h.push.unreadCountsNow(bob.userId, roomId, upTo + 1_000), undefined, 'a position not counted yet');
    assert.equal(h.push.unreadCountsNow(carol.userId, roomId, upTo), undefined, 'counts not in memory');
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

test('it should highlight a message that says a member\'s display name when their rules look for it', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob, carol] = [h.user('alice'), h.user('bob'), h.user('carol')];
    const roomId = await roomWith(h, alice, [bob, carol]);
    for (const [u, name] of [[bob, 'Bobby Tables'], [carol, 'Carol']] as const) {
      await h.rooms.events.setState(u, roomId, 'm.room.member', u.userId, { membership: 'join', displayname: name });
    }
    const rule = { actions: ['notify', { set_tweak: 'highlight' }], conditions: [{ kind: 'contains_display_name' }] };
    await h.call('PUT', `${C}/pushrules/global/override/names`, { token: bob.token, body: rule });
    await h.send(alice, roomId, text('has anyone seen bobby tables?'));
    await h.send(alice, roomId, text('Bobby is not here'));
    // Only bob asked for it: carol's name in a message is not a highlight under the defaults.
    await h.send(alice, roomId, text('Carol knows'));
    assert.deepEqual(await counts(h, bob, roomId), { notification_count: 3, highlight_count: 1 });
    assert.deepEqual(await counts(h, carol, roomId), { notification_count: 3, highlight_count: 0 });
  });
});

test('it should list each user\'s own actions and keep counts, read flags and highlights right across a restart', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob, carol, dave] = [h.user('alice'), h.user('bob'), h.user('carol'), h.user('dave')];
    const roomId = await roomWith(h, alice, [bob, carol, dave]);
    // carol rings on every message; bob and dave keep the defaults.
    const ring = ['notify', { set_tweak: 'sound', value: 'ring' }];
    await h.call('PUT', `${C}/pushrules/global/room/${encodeURIComponent(roomId)}`, { token: carol.token, body: { actions: ring } });
    const first = await h.send(alice, roomId, text('one'));
    await h.send(alice, roomId, text('two', { 'm.mentions': { user_ids: [dave.userId] } }));
    await h.send(alice, roomId, text('three'));
    await h.settle();
    const list = async (u: TestUser) => {
      const res = await h.call('GET', `${C}/notifications`, { token: u.token });
      return res.json.notifications.map((n: any) => ({ body: n.event.content.body, actions: n.actions, read: n.read }));
    };
    assert.deepEqual(await list(bob), [
      { body: 'three', actions: ['notify'], read: false },
      { body: 'two', actions: ['notify'], read: false },
      { body: 'one', actions: ['notify'], read: false },
    ]);
    assert.deepEqual((await list(carol)).map((n: any) => n.actions), [ring, ring, ring]);
    assert.deepEqual((await list(dave))[1].actions, ['notify', { set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }]);
    await h.push.receiptMoved(bob.userId, roomId, first);
    await h.push.close();

    const again = createPushModule({ db: h.db, reader: h.rooms.reader, outputs: new RoomOutputs(), stream: h.stream, serverName: 'example.test', format: toClientEvent });
    try {
      await again.start();
      const total = async (u: TestUser) => (await again.unreadCounts(u.userId, roomId, { upTo: h.stream.persisted })).total;
      assert.deepEqual(await total(bob), { notification_count: 2, highlight_count: 0 }, 'counts come back from storage after a restart');
      assert.deepEqual(await total(carol), { notification_count: 3, highlight_count: 0 });
      assert.deepEqual(await total(dave), { notification_count: 3, highlight_count: 1 });
      await again.receiptMoved(dave.userId, roomId, first);
      assert.deepEqual(await total(dave), { notification_count: 2, highlight_count: 1 });
    } finally {
      await again.close();
    }
  });
});

test('it should count one message for each of many members and clear each member\'s count with their own receipt', async () => {
  await withPushServer({}, async (h) => {
    const alice = h.user('alice');
    const members = Array.from({ length: 40 }, (_, i) => h.user(`m${i}`));
    const roomId = await roomWith(h, alice, members);
    // Half of them read before the message is even counted: counts are loaded at different moments.
    for (const u of members.slice(0, 20)) await counts(h, u, roomId);
    const eventId = await h.send(alice, roomId, text('to everyone'));
    for (const u of members) assert.deepEqual(await counts(h, u, roomId), { notification_count: 1, highlight_count: 0 }, u.userId);
    for (const u of members.filter((_, i) => i % 2 === 0)) await h.push.receiptMoved(u.userId, roomId, eventId);
    for (const [i, u] of members.entries()) {
      assert.deepEqual(await counts(h, u, roomId), { notification_count: i % 2 === 0 ? 0 : 1, highlight_count: 0 }, u.userId);
    }
    assert.deepEqual(h.errors, []);
  });
});

test('it should still list and count notifications stored in the older layout (whole record per user, stored counts)', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob, h.user('carol')]);
    const eventId = await h.send(alice, roomId, text('from before the upgrade'));
    await h.settle();
    const [rec] = await new NotificationsRepo(h.db).ofUser(bob.userId, { limit: 10, newestFirst: true });
    await h.push.close();
    // What the previous version wrote: the whole record in bob's list, no shared event row, counts stored.
    const { stream, ...whole } = rec;
    await h.db.write([
      h.db.del('stream_notificationevent', key(stream)),
      h.db.put('userstream_notification', key(bob.userId, stream), whole),
      h.db.put('userroom_notificationcounts', key(bob.userId, roomId), { readTo: 0, threads: { main: { n: 1, h: 0, readTo: 0 } } }),
    ]);
    const again = createPushModule({ db: h.db, reader: h.rooms.reader, outputs: new RoomOutputs(), stream: h.stream, serverName: 'example.test', format: toClientEvent });
    try {
      await again.start();
      const list = await h.call('GET', `${C}/notifications`, { token: bob.token });
      assert.deepEqual(list.json.notifications.map((n: any) => [n.event.event_id, n.actions, n.read]), [[eventId, ['notify'], false]]);
      assert.deepEqual((await again.unreadCounts(bob.userId, roomId)).total, { notification_count: 1, highlight_count: 0 });
      await again.receiptMoved(bob.userId, roomId, eventId);
      assert.deepEqual((await again.unreadCounts(bob.userId, roomId)).total, { notification_count: 0, highlight_count: 0 });
    } finally {
      await again.close();
    }
  });
});

test('it should evaluate joins and invites without reading the member list, still notifying users whose own rules or the event name them', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob, carol, dave, erin] = [h.user('alice'), h.user('bob'), h.user('carol'), h.user('dave'), h.user('erin')];
    const roomId = await roomWith(h, alice, [bob, carol]);
    // The joins above are evaluated before bob's rule exists (else carol's may be notified to him).
    await h.settle();
    // bob wants to hear about every membership change; carol keeps the defaults.
    const rule = { actions: ['notify'], conditions: [{ kind: 'event_match', key: 'type', pattern: 'm.room.member' }] };
    assert.equal((await h.call('PUT', `${C}/pushrules/global/override/joins`, { token: bob.token, body: rule })).status, 200);
    await h.settle();
    await h.push.close();
    await h.join(dave, roomId);
    await h.rooms.membership.invite(alice.userId, roomId, erin.userId);

    // A worker that counts whole-member-list reads evaluates what was written while it was stopped.
    let memberListReads = 0;
    const reader: typeof h.rooms.reader = Object.create(h.rooms.reader);
    reader.members = (r) => {
      memberListReads++;
      return h.rooms.reader.members(r);
    };
    const again = createPushModule({ db: h.db, reader, outputs: new RoomOutputs(), stream: h.stream, serverName: 'example.test', format: toClientEvent });
    try {
      await again.start();
      const total = async (u: TestUser) => (await again.unreadCounts(u.userId, roomId, { upTo: h.stream.persisted })).total.notification_count;
      assert.equal(await total(bob), 2, 'bob is notified of the join and the invite by his own rule');
      assert.equal(await total(carol), 0, 'the defaults notify nobody of a join');
      assert.equal(await total(erin), 1, 'the invitee is notified of the invite');
      assert.equal(memberListReads, 0, 'only the memberships of bob and erin were looked up');
    } finally {
      await again.close();
    }
  });
});

test('it should highlight an @room mention only from a sender with the room notification level', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob, carol] = [h.user('alice'), h.user('bob'), h.user('carol')];
    const roomId = await roomWith(h, alice, [bob, carol]);
    // Bob has level 0, below the default `notifications.room` of 50: a plain notification.
    await h.send(bob, roomId, text('everyone!', { 'm.mentions': { room: true } }));
    assert.deepEqual(await counts(h, carol, roomId), { notification_count: 1, highlight_count: 0 });
    // Alice created the room (level 100): her @room highlights.
    await h.send(alice, roomId, text('everyone, really', { 'm.mentions': { room: true } }));
    assert.deepEqual(await counts(h, carol, roomId), { notification_count: 2, highlight_count: 1 });
    assert.deepEqual(h.errors, []);
  });
});

/** Holds or fails the push worker's writes (fsync'd or not), and records which kind each was. */
function gatePushWrites(h: PushHarness, mode: 'hold' | 'fail-once' | 'pass') {
  const notifications = h.db.space('stream_notificationevent');
  const positions = h.db.space('userroom_notificationcounts');
  const [write, writeDerived] = [h.db.write.bind(h.db), h.db.writeDerived.bind(h.db)];
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  let held = 0;
  let failed = false;
  const kinds: Array<'fsync' | 'derived'> = [];
  const gated = (inner: typeof write, kind: 'fsync' | 'derived') => async (ops: BatchOp[]) => {
    const sublevels = new Set(ops.map((op) => (op as { sublevel?: unknown }).sublevel));
    if (sublevels.has(notifications) || sublevels.has(positions)) {
      kinds.push(kind);
      if (mode === 'hold') {
        held++;
        await opened;
      } else if (mode === 'fail-once' && !failed) {
        failed = true;
        throw new Error('disk full (test)');
      }
    }
    return inner(ops);
  };
  h.db.write = gated(write, 'fsync');
  h.db.writeDerived = gated(writeDerived, 'derived');
  const restore = () => {
    h.db.write = write;
    h.db.writeDerived = writeDerived;
  };
  return { open, held: () => held, kinds: () => [...kinds], restore };
}

/** alice's room with bob in it, and one message of alice's that bob has not read. */
async function bobWithOneUnread(h: PushHarness): Promise<{ alice: TestUser; bob: TestUser; roomId: string }> {
  const [alice, bob] = [h.user('alice'), h.user('bob')];
  const roomId = await roomWith(h, alice, [bob]);
  await h.send(alice, roomId, text('one'));
  assert.equal((await counts(h, bob, roomId)).notification_count, 1);
  return { alice, bob, roomId };
}

test('it should give a woken sync the new unread count before the push batch is durable, and /notifications once it is', async () => {
  await withPushServer({}, async (h) => {
    const { alice, bob, roomId } = await bobWithOneUnread(h);

    const gate = gatePushWrites(h, 'hold');
    try {
      await h.send(alice, roomId, text('two'));
      const upTo = h.stream.persisted;
      assert.equal((await h.push.unreadCounts(bob.userId, roomId, { upTo })).total.notification_count, 2, 'counted while the write waits');
      assert.equal(gate.held(), 1, 'the batch was still being written');
      let durable = false;
      const caughtUp = h.push.worker.caughtUp(upTo, 10_000).then(() => (durable = true));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(durable, false, 'the durable position waits for the write');
      gate.open();
      await caughtUp;
    } finally {
      gate.open();
      gate.restore();
    }
    const list = await h.call('GET', `${C}/notifications`, { token: bob.token });
    assert.equal(list.json.notifications.length, 2);
    assert.deepEqual(h.errors, []);
  });
});

/** alice and bob in a room, on a server whose push writes wait for `answer()` (PushWorkerDeps.answered). */
async function withDeferredWrites(
  fn: (h: PushHarness, t: { alice: TestUser; bob: TestUser; roomId: string; answer: () => void; stored: () => Promise<unknown[]> }) => Promise<void>,
): Promise<void> {
  let answer = () => {};
  await withPushServer({ answered: () => new Promise<void>((resolve) => (answer = resolve)) }, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob]);
    await h.settle();
    const stored = () => new NotificationsRepo(h.db).ofUser(bob.userId, { limit: 10, newestFirst: false });
    await fn(h, { alice, bob, roomId, answer: () => answer(), stored });
  });
}

test('it should write a batch after the syncs its counts released were answered, or at once when more is asked of it', async () => {
  await withDeferredWrites(async (h, { alice, bob, roomId, answer, stored }) => {

    await h.send(alice, roomId, text('one'));
    await h.push.worker.countedUpTo(h.stream.persisted, 10_000);
    assert.equal((await counts(h, bob, roomId)).notification_count, 1, 'counted');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await stored()).length, 0, 'not written while the answers are going');
    answer();
    await h.settle();
    assert.equal((await stored()).length, 1, 'written once they went');

    // A new event ends the wait: the first batch is written before the second is counted.
    await h.send(alice, roomId, text('two'));
    await h.push.worker.countedUpTo(h.stream.persisted, 10_000);
    await h.send(alice, roomId, text('three'));
    await h.push.worker.countedUpTo(h.stream.persisted, 10_000);
    assert.equal((await counts(h, bob, roomId)).notification_count, 3);
    assert.deepEqual((await stored()).length, 2, '"two" was written when "three" came');
    // GET /notifications asks for everything durable: the wait ends at once.
    const t0 = Date.now();
    const list = await h.call('GET', `${C}/notifications`, { token: bob.token });
    assert.equal(list.json.notifications.length, 3);
    assert.ok(Date.now() - t0 < 1_000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(h.errors, []);
  });
});

test('it should not defer a write that a receipt or a wait for the durable position asked for', async () => {
  await withPushServer({ answered: () => new Promise<void>(() => {}) }, async (h) => {
    const t0 = Date.now();
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob]);
    await h.settle();
    const id = await h.send(alice, roomId, text('one'));
    await h.push.worker.caughtUp(h.stream.persisted, 10_000);
    await h.push.worker.receiptMoved(bob.userId, roomId, id, undefined);
    assert.ok(Date.now() - t0 < 1_000, `took ${Date.now() - t0} ms`);
    assert.equal((await counts(h, bob, roomId)).notification_count, 0, 'read');
  });
});

test('it should defer the write also when a woken sync started the worker before the event reached it', async () => {
  await withDeferredWrites(async (h, { alice, bob, roomId, answer, stored }) => {
    // As main.ts wires it: a sync woken by a message is released once the message is counted.
    h.sync.notifier.setReadyGate((pos) => h.push.worker.countedUpTo(pos));
    const viewer = { userId: bob.userId, deviceId: bob.deviceId };
    const syncOf = (since: number | undefined, timeoutMs: number) => h.sync.sync.sync({ viewer, since, fullState: false, filter: compileFilter(undefined), timeoutMs });
    const first = await syncOf(undefined, 0);
    const since = decodeToken((first as { next_batch: string }).next_batch);
    const held = syncOf(since, 10_000);
    await new Promise((r) => setTimeout(r, 50));

    await h.send(alice, roomId, text('one'));
    const woken = await held;
    const answerText = JSON.stringify(woken);
    assert.ok(answerText.includes('"notification_count":1'), answerText);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await stored()).length, 0, 'deferred');
    answer();
    await h.settle();
    assert.equal((await stored()).length, 1);
  });
});

test('it should write a batch of events alone without an fsync of its own, but fsync a receipt\'s before acknowledging it', async () => {
  await withPushServer({}, async (h) => {
    const [alice, bob] = [h.user('alice'), h.user('bob')];
    const roomId = await roomWith(h, alice, [bob]);
    await h.settle();
    const gate = gatePushWrites(h, 'pass');
    try {
      const id = await h.send(alice, roomId, text('one'));
      await h.settle();
      assert.deepEqual(gate.kinds(), ['derived'], 'recomputed from the durable message after a crash');
      await h.push.worker.receiptMoved(bob.userId, roomId, id, undefined);
      // The receipt is not in the stream the worker replays: its recount must not be lost.
      assert.deepEqual(gate.kinds(), ['derived', 'fsync']);
    } finally {
      gate.restore();
    }
    assert.equal((await counts(h, bob, roomId)).notification_count, 0);
    assert.equal((await new NotificationsRepo(h.db).ofUser(bob.userId, { limit: 10, newestFirst: false })).length, 1);
  });
});

test('it should count a message once when the push batch write fails and is retried', async () => {
  await withPushServer({}, async (h) => {
    const { alice, bob, roomId } = await bobWithOneUnread(h);

    const gate = gatePushWrites(h, 'fail-once');
    await h.send(alice, roomId, text('two'));
    await h.push.worker.caughtUp(h.stream.persisted, 10_000);
    gate.restore();
    assert.equal(h.errors.length, 1, 'the failed batch was reported');
    assert.equal((await counts(h, bob, roomId)).notification_count, 2, 'counted once, not twice');
    await h.send(alice, roomId, text('three'));
    assert.equal((await counts(h, bob, roomId)).notification_count, 3);
  });
});
