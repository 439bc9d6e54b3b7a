import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchReads } from '../testing/storage.js';
import { bobInAlicesRoom, C1, C3, enc, withMessagingServer } from './testHarness.js';

const edit = (target: string, body: string) => ({
  msgtype: 'm.text',
  body: `* ${body}`,
  'm.new_content': { msgtype: 'm.text', body },
  'm.relates_to': { rel_type: 'm.replace', event_id: target },
});
const reaction = (target: string, key: string) => ({ 'm.relates_to': { rel_type: 'm.annotation', event_id: target, key } });
const inThread = (root: string, body: string) => ({ msgtype: 'm.text', body, 'm.relates_to': { rel_type: 'm.thread', event_id: root } });

test('it should bundle the latest edit into unsigned.m.relations without changing the original content', async () => {
  await withMessagingServer(async (h) => {
    const { alice, bob, roomId } = await bobInAlicesRoom(h);
    const original = await h.message(alice, roomId, 'I like cake');
    await h.send(alice, roomId, edit(original, 'I like chocolate cake'));
    const latest = (await h.send(alice, roomId, edit(original, 'I like chocolate cake a lot'))).json.event_id;
    // Not the sender: an edit by someone else is not valid and is not bundled.
    await h.send(bob, roomId, edit(original, 'bob was here'));
    await h.send(bob, roomId, reaction(original, '👍'), 'm.reaction');

    const ev = await h.call('GET', `${C3}/rooms/${enc(roomId)}/event/${enc(original)}`, { token: bob.token });
    assert.equal(ev.status, 200);
    assert.equal(ev.json.content.body, 'I like cake');
    const rel = ev.json.unsigned['m.relations'];
    assert.equal(rel['m.replace'].event_id, latest);
    assert.equal(rel['m.replace'].content['m.new_content'].body, 'I like chocolate cake a lot');
    // event_annotations.md: annotations are not aggregated by the server.
    assert.equal(rel['m.annotation'], undefined);

    const msgs = await h.call('GET', `${C3}/rooms/${enc(roomId)}/messages?dir=b&limit=20`, { token: bob.token });
    const inPage = msgs.json.chunk.find((e: { event_id: string }) => e.event_id === original);
    assert.equal(inPage.unsigned['m.relations']['m.replace'].event_id, latest);

    const sync = await h.call('GET', `${C3}/sync`, { token: bob.token });
    const inSync = sync.json.rooms.join[roomId].timeline.events.find((e: { event_id: string }) => e.event_id === original);
    assert.equal(inSync.unsigned['m.relations']['m.replace'].event_id, latest);
  });
});

test('it should refuse a second identical reaction until the first is redacted', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const roomId = await h.createRoom(alice);
    const target = await h.message(alice, roomId, 'react to me');
    const first = await h.send(alice, roomId, reaction(target, '🎉'), 'm.reaction');
    assert.equal(first.status, 200);
    const dup = await h.send(alice, roomId, reaction(target, '🎉'), 'm.reaction');
    assert.equal(dup.status, 400);
    assert.equal(dup.json.errcode, 'M_DUPLICATE_ANNOTATION');
    // Another key is fine.
    assert.equal((await h.send(alice, roomId, reaction(target, '❤️'), 'm.reaction')).status, 200);

    const redact = await h.call('PUT', `${C3}/rooms/${enc(roomId)}/redact/${enc(first.json.event_id)}/r1`, { token: alice.token, body: {} });
    assert.equal(redact.status, 200);
    const rels = await h.call('GET', `${C1}/rooms/${enc(roomId)}/relations/${enc(target)}/m.annotation`, { token: alice.token });
    assert.deepEqual(
      rels.json.chunk.map((e: { content: { 'm.relates_to': { key: string } } }) => e.content['m.relates_to'].key),
      ['❤️'],
    );
    assert.equal((await h.send(alice, roomId, reaction(target, '🎉'), 'm.reaction')).status, 200);
  });
});

test('it should page through relations newest first with next_batch, filter by type, and go forwards with dir=f', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const roomId = await h.createRoom(alice);
    const root = await h.message(alice, roomId, 'root');
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(await h.message(alice, roomId, `reply ${i}`, { 'm.relates_to': { rel_type: 'm.thread', event_id: root } }));
    await h.send(alice, roomId, reaction(root, 'x'), 'm.reaction');

    const path = `${C1}/rooms/${enc(roomId)}/relations/${enc(root)}/m.thread`;
    const page1 = await h.call('GET', `${path}?limit=2`, { token: alice.token });
    assert.equal(page1.status, 200);
    assert.deepEqual(page1.json.chunk.map((e: { event_id: string }) => e.event_id), [replies[4], replies[3]]);
    assert.ok(page1.json.next_batch);
    const page2 = await h.call('GET', `${path}?limit=2&from=${page1.json.next_batch}`, { token: alice.token });
    assert.deepEqual(page2.json.chunk.map((e: { event_id: string }) => e.event_id), [replies[2], replies[1]]);
    const page3 = await h.call('GET', `${path}?limit=2&from=${page2.json.next_batch}`, { token: alice.token });
    assert.deepEqual(page3.json.chunk.map((e: { event_id: string }) => e.event_id), [replies[0]]);
    assert.equal(page3.json.next_batch, undefined);

    const forward = await h.call('GET', `${path}?dir=f&limit=10`, { token: alice.token });
    assert.deepEqual(forward.json.chunk.map((e: { event_id: string }) => e.event_id), replies);
    const all = await h.call('GET', `${C1}/rooms/${enc(roomId)}/relations/${enc(root)}?limit=50`, { token: alice.token });
    assert.equal(all.json.chunk.length, 6);
    const reactions = await h.call('GET', `${C1}/rooms/${enc(roomId)}/relations/${enc(root)}/m.annotation/m.reaction`, { token: alice.token });
    assert.equal(reactions.json.chunk.length, 1);
    const recursive = await h.call('GET', `${C1}/rooms/${enc(roomId)}/relations/${enc(root)}?recurse=true`, { token: alice.token });
    assert.equal(recursive.json.recursion_depth, 3);

    const outsider = h.user('eve');
    const hidden = await h.call('GET', path, { token: outsider.token });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json.errcode, 'M_NOT_FOUND');
    const bad = await h.call('GET', `${path}?dir=x`, { token: alice.token });
    assert.equal(bad.status, 400);
  });
});

test('it should summarise a thread on its root and list threads by latest activity', async () => {
  await withMessagingServer(async (h) => {
    const { alice, bob, roomId } = await bobInAlicesRoom(h);
    const rootA = await h.message(alice, roomId, 'thread A');
    const rootB = await h.message(alice, roomId, 'thread B');
    await h.send(bob, roomId, inThread(rootA, 'a1'));
    await h.send(bob, roomId, inThread(rootB, 'b1'));
    const lastA = (await h.send(alice, roomId, inThread(rootA, 'a2'))).json.event_id;

    const root = await h.call('GET', `${C3}/rooms/${enc(roomId)}/event/${enc(rootA)}`, { token: bob.token });
    const summary = root.json.unsigned['m.relations']['m.thread'];
    assert.equal(summary.count, 2);
    assert.equal(summary.latest_event.event_id, lastA);
    assert.equal(summary.latest_event.content.body, 'a2');
    assert.equal(summary.current_user_participated, true);
    const carol = h.user('carol');
    await h.rooms.membership.join(carol.userId, roomId);
    const asCarol = await h.call('GET', `${C3}/rooms/${enc(roomId)}/event/${enc(rootB)}`, { token: carol.token });
    assert.equal(asCarol.json.unsigned['m.relations']['m.thread'].current_user_participated, false);

    const threads = await h.call('GET', `${C1}/rooms/${enc(roomId)}/threads`, { token: bob.token });
    assert.equal(threads.status, 200);
    assert.deepEqual(threads.json.chunk.map((e: { event_id: string }) => e.event_id), [rootA, rootB]);
    assert.equal(threads.json.chunk[0].unsigned['m.relations']['m.thread'].count, 2);
    const page = await h.call('GET', `${C1}/rooms/${enc(roomId)}/threads?limit=1`, { token: bob.token });
    assert.deepEqual(page.json.chunk.map((e: { event_id: string }) => e.event_id), [rootA]);
    const next = await h.call('GET', `${C1}/rooms/${enc(roomId)}/threads?limit=1&from=${page.json.next_batch}`, { token: bob.token });
    assert.deepEqual(next.json.chunk.map((e: { event_id: string }) => e.event_id), [rootB]);
    const mine = await h.call('GET', `${C1}/rooms/${enc(roomId)}/threads?include=participated`, { token: carol.token });
    assert.deepEqual(mine.json.chunk, []);

    // threading.md: a thread cannot start from an event that is itself a relation.
    const nested = await h.send(bob, roomId, inThread(lastA, 'nested'));
    assert.equal(nested.status, 400);
    assert.equal(nested.json.errcode, 'M_UNKNOWN');
  });
});

test('it should hide ignored users\u2019 messages from /sync and /messages but keep their state events', async () => {
  await withMessagingServer(async (h) => {
    const { alice, bob, roomId } = await bobInAlicesRoom(h);
    const put = await h.call('PUT', `${C3}/user/${enc(alice.userId)}/account_data/m.ignored_user_list`, {
      token: alice.token,
      body: { ignored_users: { [bob.userId]: {} } },
    });
    assert.equal(put.status, 200);
    await h.message(bob, roomId, 'you cannot hear me');
    await h.message(alice, roomId, 'hello?');
    const sync = await h.call('GET', `${C3}/sync`, { token: alice.token });
    const timeline = sync.json.rooms.join[roomId].timeline.events;
    assert.ok(!timeline.some((e: { content: { body?: string } }) => e.content.body === 'you cannot hear me'));
    assert.ok(timeline.some((e: { type: string; state_key?: string }) => e.type === 'm.room.member' && e.state_key === bob.userId));
    const msgs = await h.call('GET', `${C3}/rooms/${enc(roomId)}/messages?dir=b&limit=50`, { token: alice.token });
    assert.ok(!msgs.json.chunk.some((e: { content: { body?: string } }) => e.content.body === 'you cannot hear me'));
    assert.ok(msgs.json.chunk.some((e: { content: { body?: string } }) => e.content.body === 'hello?'));

    // Their invites are not delivered either.
    const other = await h.createRoom(bob);
    await h.rooms.membership.invite(bob.userId, other, alice.userId);
    const after = await h.call('GET', `${C3}/sync`, { token: alice.token });
    assert.equal(after.json.rooms.invite[other], undefined);
  });
});

test('it should accept threaded receipts for events in the thread and refuse them for events outside it', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const roomId = await h.createRoom(alice);
    const root = await h.message(alice, roomId, 'root');
    const reply = (await h.send(alice, roomId, inThread(root, 'in thread'))).json.event_id;
    const outside = await h.message(alice, roomId, 'main timeline');
    const receipt = (eventId: string, threadId: string) =>
      h.call('POST', `${C3}/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, { token: alice.token, body: { thread_id: threadId } });
    assert.equal((await receipt(reply, root)).status, 200);
    assert.equal((await receipt(root, root)).status, 200);
    assert.equal((await receipt(outside, 'main')).status, 200);
    const wrong = await receipt(outside, root);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.errcode, 'M_INVALID_PARAM');
  });
});

test('it should serve a message made here to the next /sync without probing the relations index, and bundle an edit made afterwards', async () => {
  await withMessagingServer(async (h) => {
    const { alice, bob, roomId } = await bobInAlicesRoom(h);
    const since = (await h.call('GET', `${C3}/sync`, { token: bob.token })).json.next_batch;
    const original = await h.message(alice, roomId, 'new here');

    const reads = watchReads(h.db);
    try {
      const sync = await h.call('GET', `${C3}/sync?since=${since}`, { token: bob.token });
      assert.ok(sync.json.rooms.join[roomId].timeline.events.some((e: { event_id: string }) => e.event_id === original));
      assert.deepEqual(
        reads.spaces.filter((s) => s.startsWith('parentrel_')),
        [],
        'a new event has no children to look for',
      );
    } finally {
      reads.stop();
    }
    const latest = (await h.send(alice, roomId, edit(original, 'edited'))).json.event_id;
    const ev = await h.call('GET', `${C3}/rooms/${enc(roomId)}/event/${enc(original)}`, { token: bob.token });
    assert.equal(ev.json.unsigned['m.relations']['m.replace'].event_id, latest);
  });
});
