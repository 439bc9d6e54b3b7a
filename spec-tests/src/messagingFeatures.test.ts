// Messaging features through raw HTTP against the real server: edits bundled in
// unsigned.m.relations, reactions through /relations with duplicate refusal, and
// thread summaries with /threads. Spec: client-server-api "Aggregations of child events",
// modules/event_replacements.md, event_annotations.md, threading.md.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import { createRoom, enc, expectError, expectOk, joinRoom, rawRequest, registerUser, sendRaw, sendText, sync, syncTimeline, type User } from './harness/http.js';
import { uniq } from './harness/util.js';

const V1 = '/_matrix/client/v1';
const V3 = '/_matrix/client/v3';

describe('messaging features (relations, edits, reactions, threads)', () => {
  const ctx = useServer();
  let alice: User;
  let bob: User;
  let roomId = '';

  before(async () => {
    alice = await registerUser(ctx.server, uniq('alice'));
    bob = await registerUser(ctx.server, uniq('bob'));
    roomId = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Features' });
    await joinRoom(ctx.server, bob, roomId);
  });

  it('should bundle the latest edit into unsigned.m.relations, keep the original content, and list a reaction under /relations', async () => {
    const original = await sendText(ctx.server, alice, roomId, 'Hello wrold');
    const edit = expectOk(
      await sendRaw(ctx.server, alice, roomId, {
        msgtype: 'm.text',
        body: '* Hello world',
        'm.new_content': { msgtype: 'm.text', body: 'Hello world' },
        'm.relates_to': { rel_type: 'm.replace', event_id: original },
      }),
      'send the edit',
    ).event_id as string;
    const reaction = expectOk(
      await sendRaw(ctx.server, bob, roomId, { 'm.relates_to': { rel_type: 'm.annotation', event_id: original, key: '👍' } }, 'm.reaction'),
      'send the reaction',
    ).event_id as string;
    expectError(
      await sendRaw(ctx.server, bob, roomId, { 'm.relates_to': { rel_type: 'm.annotation', event_id: original, key: '👍' } }, 'm.reaction'),
      400,
      'M_DUPLICATE_ANNOTATION',
      'the same reaction twice',
    );

    const ev = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(original)}`, { token: bob.accessToken }), 'GET /event');
    assert.equal(ev.content.body, 'Hello wrold', 'servers must not replace the original content (v1.7+)');
    assert.equal(ev.unsigned['m.relations']['m.replace'].event_id, edit);
    assert.equal(ev.unsigned['m.relations']['m.replace'].content['m.new_content'].body, 'Hello world');

    const page = expectOk(
      await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(roomId)}/messages?dir=b&limit=10`, { token: bob.accessToken }),
      '/messages',
    );
    const inPage = page.chunk.find((e: { event_id: string }) => e.event_id === original);
    assert.equal(inPage.unsigned['m.relations']['m.replace'].event_id, edit, '/messages bundles the edit too');

    const body = await sync(ctx.server, bob);
    const inSync = syncTimeline(body, roomId).find((e: { event_id: string }) => e.event_id === original);
    assert.equal(inSync.unsigned['m.relations']['m.replace'].event_id, edit, '/sync bundles the edit too');

    const rel = expectOk(
      await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(roomId)}/relations/${enc(original)}/m.annotation/m.reaction`, { token: alice.accessToken }),
      '/relations',
    );
    assert.deepEqual(rel.chunk.map((e: { event_id: string }) => e.event_id), [reaction]);
    assert.equal(rel.chunk[0].content['m.relates_to'].key, '👍');
  });

  it('should summarise a thread on its root and list it under /threads', async () => {
    const root = await sendText(ctx.server, alice, roomId, 'Shall we talk about threads?');
    const reply = (user: User, text: string) =>
      sendRaw(ctx.server, user, roomId, { msgtype: 'm.text', body: text, 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    expectOk(await reply(bob, 'Yes'), 'first reply');
    const last = expectOk(await reply(bob, 'Definitely'), 'second reply').event_id as string;

    const ev = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(roomId)}/event/${enc(root)}`, { token: alice.accessToken }), 'GET the root');
    const summary = ev.unsigned['m.relations']['m.thread'];
    assert.equal(summary.count, 2);
    assert.equal(summary.latest_event.event_id, last);
    assert.equal(summary.latest_event.content.body, 'Definitely');
    assert.equal(summary.current_user_participated, true, 'Alice sent the root');

    const threads = expectOk(await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(roomId)}/threads`, { token: bob.accessToken }), '/threads');
    assert.equal(threads.chunk[0].event_id, root, 'the most recently active thread comes first');
    assert.equal(threads.chunk[0].unsigned['m.relations']['m.thread'].count, 2);

    const inThread = expectOk(
      await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(roomId)}/relations/${enc(root)}/m.thread?limit=1`, { token: bob.accessToken }),
      '/relations of the thread',
    );
    assert.deepEqual(inThread.chunk.map((e: { event_id: string }) => e.event_id), [last]);
    assert.equal(typeof inThread.next_batch, 'string', 'a second page exists');

    const nested = await sendRaw(ctx.server, bob, roomId, { msgtype: 'm.text', body: 'nested', 'm.relates_to': { rel_type: 'm.thread', event_id: last } });
    expectError(nested, 400, 'M_UNKNOWN', 'a thread started from a threaded message');
  });
});
