// Typing, receipts, read markers and account data endpoints: permissions, error codes,
// and what reaches /sync.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expectError } from '../testing/expect.js';
import { C, withSyncServer, type Harness, type Res } from './testHarness.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const enc = encodeURIComponent;

async function setup(h: Harness) {
  const [alice, bob, eve] = [h.user('alice'), h.user('bob'), h.user('eve')];
  const roomId = await h.createRoom(alice, { preset: 'public_chat' });
  await h.rooms.membership.join(bob.userId, roomId);
  const m1 = await h.send(alice, roomId, 'one');
  const m2 = await h.send(alice, roomId, 'two');
  return { alice, bob, eve, roomId, m1, m2 };
}

describe('account data endpoints', () => {
  it('it should store and return global and room account data for its owner only', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await setup(h);
      const g = `${C}/user/${enc(alice.userId)}/account_data/org.example.a`;
      const r = `${C}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/account_data/org.example.a`;
      expectError(await h.call('GET', g, { token: alice.token }), 404, 'M_NOT_FOUND');
      assert.equal((await h.call('PUT', g, { token: alice.token, body: { global: true } })).status, 200);
      assert.equal((await h.call('PUT', r, { token: alice.token, body: { room: true } })).status, 200);
      assert.deepEqual((await h.call('GET', g, { token: alice.token })).json, { global: true });
      assert.deepEqual((await h.call('GET', r, { token: alice.token })).json, { room: true }, 'room data does not fall back to global');
      expectError(await h.call('GET', g, { token: bob.token }), 403, 'M_FORBIDDEN');
      expectError(await h.call('PUT', r, { token: bob.token, body: {} }), 403, 'M_FORBIDDEN');
    });
  });

  it('it should refuse server-managed types with 405 and bad room IDs with 400', async () => {
    await withSyncServer(async (h) => {
      const { alice, roomId } = await setup(h);
      for (const type of ['m.fully_read', 'm.push_rules']) {
        expectError(await h.call('PUT', `${C}/user/${enc(alice.userId)}/account_data/${type}`, { token: alice.token, body: {} }), 405, 'M_BAD_JSON');
        expectError(
          await h.call('PUT', `${C}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/account_data/${type}`, { token: alice.token, body: {} }),
          405,
          'M_BAD_JSON',
        );
      }
      const bad = `${C}/user/${enc(alice.userId)}/rooms/${enc('@not-a-room:x')}/account_data/org.example.a`;
      expectError(await h.call('PUT', bad, { token: alice.token, body: { a: 1 } }), 400, 'M_INVALID_PARAM');
      expectError(await h.call('GET', bad, { token: alice.token }), 400, 'M_INVALID_PARAM');
      expectError(await h.call('PUT', `${C}/user/${enc(alice.userId)}/account_data/x`, { token: alice.token, body: [1, 2] }), 400, 'M_BAD_JSON');
    });
  });
});

describe('typing endpoint', () => {
  it('it should only let joined users set their own typing state', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, eve, roomId } = await setup(h);
      const path = (u: string) => `${C}/rooms/${enc(roomId)}/typing/${enc(u)}`;
      expectError(await h.call('PUT', path(alice.userId), { token: bob.token, body: { typing: true } }), 403, 'M_FORBIDDEN');
      expectError(await h.call('PUT', path(eve.userId), { token: eve.token, body: { typing: true } }), 403, 'M_FORBIDDEN');
      expectError(await h.call('PUT', path(bob.userId), { token: bob.token, body: { timeout: 5 } }), 400, 'M_BAD_JSON');
      assert.equal((await h.call('PUT', path(bob.userId), { token: bob.token, body: { typing: true, timeout: 30000 } })).status, 200);
      assert.deepEqual(h.sync.typing.typing(roomId)?.userIds, [bob.userId]);
    });
  });

  it('it should forget a typer after the timeout, and tell syncing clients', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId } = await setup(h);
      const since = (await h.syncRaw(bob)).json.next_batch;
      await h.sync.typing.setTyping(alice.userId, alice.userId, roomId, true, 150);
      const s1 = await h.syncRaw(bob, { since });
      assert.deepEqual(s1.json.rooms.join[roomId].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [alice.userId] } }]);
      // The expiry is a change of its own: a long-poll wakes for it.
      const s2 = await h.syncRaw(bob, { since: s1.json.next_batch, timeout: 5000 });
      assert.deepEqual(s2.json.rooms.join[roomId].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [] } }]);
    });
  });
});

describe('receipts and read markers', () => {
  it('it should validate receipt type, membership, event and thread_id', async () => {
    await withSyncServer(async (h) => {
      const { bob, eve, roomId, m1 } = await setup(h);
      const post = (type: string, ev: string, token: string, body: unknown = {}) =>
        h.call('POST', `${C}/rooms/${enc(roomId)}/receipt/${type}/${enc(ev)}`, { token, body });
      expectError(await post('m.bogus', m1, bob.token), 400, 'M_INVALID_PARAM');
      expectError(await post('m.read', m1, eve.token), 403, 'M_FORBIDDEN');
      expectError(await post('m.read', '$unknown', bob.token), 404, 'M_NOT_FOUND');
      expectError(await post('m.read', m1, bob.token, { thread_id: '' }), 400, 'M_BAD_JSON');
      expectError(await post('m.read', m1, bob.token, { thread_id: 'sideways' }), 400, 'M_INVALID_PARAM');
      expectError(await post('m.fully_read', m1, bob.token, { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
      assert.equal((await post('m.read', m1, bob.token, { thread_id: 'main' })).status, 200);
    });
  });

  it('it should refuse thread_id main for an event in a thread, and accept it for the root and its reactions', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId, m1: root } = await setup(h);
      const reply = await h.send(alice, roomId, 'in thread', { 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
      const replyReaction = await h.send(alice, roomId, '', { 'm.relates_to': { rel_type: 'm.annotation', event_id: reply, key: '👍' } });
      const rootReaction = await h.send(alice, roomId, '', { 'm.relates_to': { rel_type: 'm.annotation', event_id: root, key: '👍' } });
      const post = (ev: string, threadId: string) =>
        h.call('POST', `${C}/rooms/${enc(roomId)}/receipt/m.read/${enc(ev)}`, { token: bob.token, body: { thread_id: threadId } });
      // receipts.yaml 400: "The event_id is not related to the thread_id".
      expectError(await post(reply, 'main'), 400, 'M_INVALID_PARAM');
      expectError(await post(replyReaction, 'main'), 400, 'M_INVALID_PARAM');
      assert.equal((await post(root, 'main')).status, 200, 'a thread root is in the main timeline');
      assert.equal((await post(rootReaction, 'main')).status, 200, 'a non-thread relation to the root is in the main timeline');
      assert.equal((await post(reply, root)).status, 200);
      // The refused receipts stored nothing under main.
      const s = await h.syncRaw(alice);
      const content = s.json.rooms.join[roomId].ephemeral.events.find((e: Json) => e.type === 'm.receipt').content;
      assert.equal(content[reply]['m.read'][bob.userId].thread_id, root);
      assert.equal(content[replyReaction], undefined);
    });
  });

  it('it should deliver threaded receipts with their thread and never move a receipt backwards', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId, m1, m2 } = await setup(h);
      const since = (await h.syncRaw(alice)).json.next_batch;
      const post = (ev: string, body: unknown = {}) => h.call('POST', `${C}/rooms/${enc(roomId)}/receipt/m.read/${enc(ev)}`, { token: bob.token, body });
      await post(m2);
      await post(m1); // older: ignored
      await post(m1, { thread_id: 'main' });
      const s = await h.syncRaw(alice, { since });
      const content = s.json.rooms.join[roomId].ephemeral.events.find((e: Json) => e.type === 'm.receipt').content;
      assert.deepEqual(Object.keys(content[m2]['m.read']), [bob.userId]);
      assert.equal(content[m2]['m.read'][bob.userId].thread_id, undefined);
      assert.equal(content[m1]['m.read'][bob.userId].thread_id, 'main');
      const initial = await h.syncRaw(alice);
      const all = initial.json.rooms.join[roomId].ephemeral.events.find((e: Json) => e.type === 'm.receipt').content;
      assert.ok(all[m2]['m.read'][bob.userId], 'the unthreaded receipt still points at the newer event');
    });
  });

  it('it should set the fully read marker as room account data, and receipts, through read_markers', async () => {
    await withSyncServer(async (h) => {
      const { alice, bob, roomId, m1, m2 } = await setup(h);
      const since = (await h.syncRaw(bob)).json.next_batch;
      const aliceSince = (await h.syncRaw(alice)).json.next_batch;
      const res = await h.call('POST', `${C}/rooms/${enc(roomId)}/read_markers`, {
        token: bob.token,
        body: { 'm.fully_read': m1, 'm.read': m2 },
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const got = await h.call('GET', `${C}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, { token: bob.token });
      assert.deepEqual(got.json, { event_id: m1 }, 'clients can read m.fully_read');
      const s = await h.syncRaw(bob, { since });
      assert.deepEqual(s.json.rooms.join[roomId].account_data.events, [{ type: 'm.fully_read', content: { event_id: m1 } }]);
      const forAlice = await h.syncRaw(alice, { since: aliceSince });
      const receipt = forAlice.json.rooms.join[roomId].ephemeral.events.find((e: Json) => e.type === 'm.receipt');
      assert.ok(receipt.content[m2]['m.read'][bob.userId]);
      assert.equal(JSON.stringify(forAlice.json).includes('m.fully_read'), false, 'the marker is private');
      // The receipt endpoint accepts m.fully_read too (receipts.yaml).
      await h.call('POST', `${C}/rooms/${enc(roomId)}/receipt/m.fully_read/${enc(m2)}`, { token: bob.token, body: {} });
      const again = await h.call('GET', `${C}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, { token: bob.token });
      assert.deepEqual(again.json, { event_id: m2 });
    });
  });
});
