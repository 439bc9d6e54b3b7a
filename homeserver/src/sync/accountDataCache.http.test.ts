// Account data and the ignore list are answered from memory by a /sync with no change
// since its token (sync/accountData.ts, messaging/ignoredUsers.ts). Warm first, then
// change through the API: the next sync must show it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { C3, enc, withMessagingServer, type TestUser } from '../messaging/testHarness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Call = (method: string, path: string, opts?: { token?: string; body?: unknown }) => Promise<{ status: number; json: Json }>;

async function sync(call: Call, u: TestUser, since?: string): Promise<Json> {
  const res = await call('GET', `${C3}/sync?timeout=0${since ? `&since=${since}` : ''}`, { token: u.token });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

async function warm(call: Call, u: TestUser): Promise<string> {
  let since = (await sync(call, u)).next_batch;
  for (let i = 0; i < 2; i++) since = (await sync(call, u, since)).next_batch;
  return since;
}

test('it should deliver global and room account data set after warm syncs', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const roomId = await h.createRoom(alice);
    let since = await warm(h.call, alice);
    const put = await h.call('PUT', `${C3}/user/${enc(alice.userId)}/account_data/org.example.theme`, { token: alice.token, body: { dark: true } });
    assert.equal(put.status, 200);
    let s = await sync(h.call, alice, since);
    assert.deepEqual(s.account_data.events, [{ type: 'org.example.theme', content: { dark: true } }]);
    since = (await sync(h.call, alice, s.next_batch)).next_batch;

    const tag = await h.call('PUT', `${C3}/user/${enc(alice.userId)}/rooms/${enc(roomId)}/account_data/org.example.note`, {
      token: alice.token,
      body: { text: 'hi' },
    });
    assert.equal(tag.status, 200);
    s = await sync(h.call, alice, since);
    assert.deepEqual(s.rooms.join[roomId].account_data.events, [{ type: 'org.example.note', content: { text: 'hi' } }]);
  });
});

test('it should hide a user ignored after warm syncs, and show them again once unignored', async () => {
  await withMessagingServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const roomId = await h.createRoom(alice, { preset: 'public_chat' });
    await h.rooms.membership.join(bob.userId, roomId);
    let since = await warm(h.call, alice);
    await h.message(bob, roomId, 'before');
    let s = await sync(h.call, alice, since);
    assert.deepEqual(bodies(s, roomId), ['before'], 'the empty ignore list is remembered now');
    since = s.next_batch;

    const ignore = (users: Json) =>
      h.call('PUT', `${C3}/user/${enc(alice.userId)}/account_data/m.ignored_user_list`, { token: alice.token, body: { ignored_users: users } });
    assert.equal((await ignore({ [bob.userId]: {} })).status, 200);
    await h.message(bob, roomId, 'while ignored');
    await h.message(alice, roomId, 'mine');
    s = await sync(h.call, alice, since);
    assert.deepEqual(bodies(s, roomId), ['mine']);
    since = s.next_batch;

    assert.equal((await ignore({})).status, 200);
    await h.message(bob, roomId, 'after');
    s = await sync(h.call, alice, since);
    assert.deepEqual(bodies(s, roomId), ['after']);
  });
});

function bodies(s: Json, roomId: string): string[] {
  return (s.rooms.join[roomId]?.timeline.events ?? []).filter((e: Json) => e.type === 'm.room.message').map((e: Json) => e.content.body);
}
