// Bad input: each must fail with the exact status and errcode, and change nothing.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { serverForTest, useServer } from './harness/hooks.js';
import {
  allMessages,
  createRoom,
  enc,
  expectError,
  expectOk,
  joinRoom,
  login,
  rawRequest,
  registerUser,
  requestRetrying429,
  sendRaw,
  type Json,
  type User,
} from './harness/http.js';
import { sleep } from './harness/util.js';

describe('bad input', () => {
  const ctx = useServer();
  let alice: User;
  let bob: User;
  let roomId = '';
  const sendPath = (txn: string) => `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${txn}`;
  const messageCount = async () => (await allMessages(ctx.server, alice, roomId)).length;
  const joinedRooms = async (u: User): Promise<string[]> =>
    expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/joined_rooms', { token: u.accessToken }), 'joined_rooms').joined_rooms;
  const memberMap = async () => {
    const res = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/members`, { token: alice.accessToken }), 'members');
    return Object.fromEntries(res.chunk.map((e: Json) => [e.state_key, e.content.membership]));
  };

  before(async () => {
    alice = await registerUser(ctx.server);
    bob = await registerUser(ctx.server);
  });
  // The room is made on first use so tests that need no room still run if room creation is broken.
  let roomReady: Promise<void> | undefined;
  const needRoom = (): Promise<void> =>
    (roomReady ??= (async () => {
      roomId = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'errors' });
      await joinRoom(ctx.server, bob, roomId);
      expectOk(await sendRaw(ctx.server, alice, roomId, { msgtype: 'm.text', body: 'baseline' }), 'baseline message');
    })());

  it('should reject malformed JSON with 400 M_NOT_JSON and create nothing', async () => {
    await needRoom();
    const roomsBefore = await joinedRooms(alice);
    const countBefore = await messageCount();
    expectError(await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/createRoom', { token: alice.accessToken, rawBody: '{"name": "half' }), 400, 'M_NOT_JSON', 'createRoom with truncated JSON');
    expectError(await rawRequest(ctx.server, 'PUT', sendPath('notjson1'), { token: alice.accessToken, rawBody: '{msgtype: m.text}' }), 400, 'M_NOT_JSON', 'send with invalid JSON');
    expectError(await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/login', { rawBody: 'not json at all' }), 400, 'M_NOT_JSON', 'login with invalid JSON');
    assert.deepEqual((await joinedRooms(alice)).sort(), roomsBefore.sort(), 'no room was created');
    assert.equal(await messageCount(), countBefore, 'no message was sent');
  });

  it('should reject wrongly-typed fields with 400 M_BAD_JSON and change nothing', async () => {
    await needRoom();
    const roomsBefore = await joinedRooms(alice);
    expectError(await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/createRoom', { token: alice.accessToken, body: { invite: bob.userId } }), 400, 'M_BAD_JSON', 'createRoom with invite as a string');
    assert.deepEqual((await joinedRooms(alice)).sort(), roomsBefore.sort(), 'no room was created');

    const membersBefore = await memberMap();
    expectError(await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: 42 } }), 400, 'M_BAD_JSON', 'invite with numeric user_id');
    assert.deepEqual(await memberMap(), membersBefore, 'membership unchanged');

    const p = `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`;
    expectOk(await rawRequest(ctx.server, 'PUT', p, { token: alice.accessToken, body: { displayname: 'Alice' } }), 'set displayname');
    // profile.yaml documents 400 for "malformed" without pinning the code, and M_INVALID_PARAM's own
    // definition ("expected an integer and instead received a string") also fits, so either is right here.
    expectError(await rawRequest(ctx.server, 'PUT', p, { token: alice.accessToken, body: { displayname: 42 } }), 400, ['M_BAD_JSON', 'M_INVALID_PARAM'], 'displayname as a number');
    assert.equal(expectOk(await rawRequest(ctx.server, 'GET', p), 'get displayname').displayname, 'Alice', 'displayname unchanged');

    // A JSON body that is not an object where an object is required.
    const countBefore = await messageCount();
    expectError(await rawRequest(ctx.server, 'PUT', sendPath('array1'), { token: alice.accessToken, body: ['not', 'an', 'object'] }), 400, ['M_BAD_JSON', 'M_NOT_JSON'], 'send with a JSON array body');
    assert.equal(await messageCount(), countBefore, 'no message was sent');
  });

  it('should answer an unknown endpoint with 404 M_UNRECOGNIZED', async () => {
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/no_such_endpoint', { token: alice.accessToken }), 404, 'M_UNRECOGNIZED', 'unknown endpoint');
    expectError(await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/rooms/x/definitely_not_real', { token: alice.accessToken, body: {} }), 404, 'M_UNRECOGNIZED', 'unknown room sub-endpoint');
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/no_such_endpoint'), 404, 'M_UNRECOGNIZED', 'unknown endpoint without token');
  });

  it('should answer a known path with the wrong method with 405 M_UNRECOGNIZED', async () => {
    const roomsBefore = await joinedRooms(alice);
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/createRoom', { token: alice.accessToken }), 405, 'M_UNRECOGNIZED', 'GET /createRoom');
    expectError(await rawRequest(ctx.server, 'DELETE', '/_matrix/client/v3/joined_rooms', { token: alice.accessToken }), 405, 'M_UNRECOGNIZED', 'DELETE /joined_rooms');
    expectError(await rawRequest(ctx.server, 'POST', '/_matrix/client/versions', { body: {} }), 405, 'M_UNRECOGNIZED', 'POST /versions');
    assert.deepEqual((await joinedRooms(alice)).sort(), roomsBefore.sort());
  });

  it('should reject a missing token with 401 M_MISSING_TOKEN and an unknown one with 401 M_UNKNOWN_TOKEN', async () => {
    await needRoom();
    const countBefore = await messageCount();
    expectError(await rawRequest(ctx.server, 'PUT', sendPath('notoken1'), { body: { msgtype: 'm.text', body: 'anon' } }), 401, 'M_MISSING_TOKEN', 'send without a token');
    expectError(await rawRequest(ctx.server, 'PUT', sendPath('badtoken1'), { token: 'syt_bogus_token', body: { msgtype: 'm.text', body: 'anon' } }), 401, 'M_UNKNOWN_TOKEN', 'send with an unknown token');
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/sync'), 401, 'M_MISSING_TOKEN', 'sync without a token');
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/sync?access_token=nope'), 401, 'M_UNKNOWN_TOKEN', 'sync with an unknown query-string token');
    const bad = await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/account/whoami', { headers: { Authorization: 'Bearer ' } });
    assert.equal(bad.status, 401, `empty bearer token: ${bad.text}`);
    assert.equal(await messageCount(), countBefore, 'no message was sent');
  });

  it('should reject event content over 65,536 bytes with 413 M_TOO_LARGE', async () => {
    await needRoom();
    const countBefore = await messageCount();
    const huge = { msgtype: 'm.text', body: 'x'.repeat(70_000) };
    expectError(await rawRequest(ctx.server, 'PUT', sendPath('huge1'), { token: alice.accessToken, body: huge }), 413, 'M_TOO_LARGE', 'oversized message');
    expectError(await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.topic/`, { token: alice.accessToken, body: { topic: 'y'.repeat(70_000) } }), 413, 'M_TOO_LARGE', 'oversized state event');
    assert.equal(await messageCount(), countBefore, 'no message was stored');
    const topic = await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.topic/`, { token: alice.accessToken });
    assert.equal(topic.status, 404, 'no topic was set');
    // Just under the limit still works.
    expectOk(await rawRequest(ctx.server, 'PUT', sendPath('big-but-ok'), { token: alice.accessToken, body: { msgtype: 'm.text', body: 'z'.repeat(60_000) } }), 'a 60 kB message is allowed');
  });

  it('should reject an invalid user ID on invite with 400 M_INVALID_PARAM', async () => {
    await needRoom();
    const before = await memberMap();
    expectError(await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: 'not-a-user-id' } }), 400, 'M_INVALID_PARAM', 'invite "not-a-user-id"');
    expectError(await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: '@no-server-part' } }), 400, 'M_INVALID_PARAM', 'invite "@no-server-part"');
    assert.deepEqual(await memberMap(), before, 'membership unchanged');
  });

  it('should reject an invalid room ID with 400 M_INVALID_PARAM (room account data, as the spec documents)', async () => {
    await needRoom();
    const bad = '@notaroomid:example.org';
    const path = `/_matrix/client/v3/user/${enc(alice.userId)}/rooms/${enc(bad)}/account_data/org.example.test`;
    expectError(await rawRequest(ctx.server, 'PUT', path, { token: alice.accessToken, body: { a: 1 } }), 400, 'M_INVALID_PARAM', 'PUT room account data with invalid room ID');
    expectError(await rawRequest(ctx.server, 'GET', path, { token: alice.accessToken }), 400, 'M_INVALID_PARAM', 'GET room account data with invalid room ID');
    // The same endpoints work with a real room ID.
    const good = `/_matrix/client/v3/user/${enc(alice.userId)}/rooms/${enc(roomId)}/account_data/org.example.test`;
    expectError(await rawRequest(ctx.server, 'GET', good, { token: alice.accessToken }), 404, 'M_NOT_FOUND', 'room account data not set yet');
    expectOk(await rawRequest(ctx.server, 'PUT', good, { token: alice.accessToken, body: { a: 1 } }), 'PUT room account data');
    assert.deepEqual(expectOk(await rawRequest(ctx.server, 'GET', good, { token: alice.accessToken }), 'GET room account data'), { a: 1 });
  });

  it('should make PUT /send idempotent per device: same txnId same event, other device new event', async () => {
    await needRoom();
    const countBefore = await messageCount();
    const txn = `idem-${Date.now()}`;
    const content = { msgtype: 'm.text', body: 'only once please' };
    const a1 = expectOk(await rawRequest(ctx.server, 'PUT', sendPath(txn), { token: alice.accessToken, body: content }), 'first send');
    const a2 = expectOk(await rawRequest(ctx.server, 'PUT', sendPath(txn), { token: alice.accessToken, body: content }), 'retransmission');
    assert.equal(a2.event_id, a1.event_id, 'a retransmission from the same device returns the original event_id');
    assert.equal(await messageCount(), countBefore + 1, 'the retransmission did not create a second event');

    const otherDevice = await login(ctx.server, alice);
    const b1 = expectOk(await rawRequest(ctx.server, 'PUT', sendPath(txn), { token: otherDevice.accessToken, body: content }), 'same txnId from another device');
    assert.notEqual(b1.event_id, a1.event_id, 'transaction IDs are scoped to a device');
    assert.equal(await messageCount(), countBefore + 2);
    const bodies = (await allMessages(ctx.server, alice, roomId)).slice(-2).map((e) => e.content.body);
    assert.deepEqual(bodies, ['only once please', 'only once please']);
  });

  it('should refuse a non-member sending into a room with 403 M_FORBIDDEN', async () => {
    await needRoom();
    const outsider = await registerUser(ctx.server);
    const countBefore = await messageCount();
    const res = await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/out1`, { token: outsider.accessToken, body: { msgtype: 'm.text', body: 'intruder' } });
    expectError(res, 403, 'M_FORBIDDEN', 'non-member sends');
    const state = await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name/`, { token: outsider.accessToken, body: { name: 'hijacked' } });
    expectError(state, 403, 'M_FORBIDDEN', 'non-member sets state');
    assert.equal(await messageCount(), countBefore);
    const name = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name/`, { token: alice.accessToken }), 'name');
    assert.equal(name.name, 'errors');
  });

  it('should refuse a power-0 member changing m.room.power_levels with 403 M_FORBIDDEN', async () => {
    await needRoom();
    const path = `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.power_levels/`;
    const before = expectOk(await rawRequest(ctx.server, 'GET', path, { token: bob.accessToken }), 'power levels');
    assert.equal(before.users?.[bob.userId] ?? before.users_default ?? 0, 0, 'bob has power 0');
    const escalated = { ...before, users: { ...(before.users ?? {}), [bob.userId]: 100 } };
    expectError(await rawRequest(ctx.server, 'PUT', path, { token: bob.accessToken, body: escalated }), 403, 'M_FORBIDDEN', 'bob makes himself admin');
    const after = expectOk(await rawRequest(ctx.server, 'GET', path, { token: bob.accessToken }), 'power levels after');
    assert.deepEqual(after, before, 'power levels unchanged');
    // Bob also cannot change the room name (state_default 50 in public_chat).
    expectError(await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name/`, { token: bob.accessToken, body: { name: 'bob was here' } }), 403, 'M_FORBIDDEN', 'bob renames the room');
  });
});

describe('rate limiting', () => {
  it('should answer a burst of requests with 429 M_LIMIT_EXCEEDED and retry_after_ms, storing only accepted messages', async (t) => {
    const server = await serverForTest(t, { rateLimit: true });
    const alice = await registerUser(server);
    const roomId = await createRoom(server, alice, { name: 'burst' });
    const accepted: string[] = [];
    let limited: { status: number; json: Json; headers: Headers } | undefined;
    const BURST = 300;
    for (let wave = 0; wave < BURST / 10 && limited === undefined; wave++) {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => sendRaw(server, alice, roomId, { msgtype: 'm.text', body: `burst ${wave}-${i}` })),
      );
      for (const r of results) {
        if (r.status === 200) accepted.push(r.json.event_id);
        else if (r.status === 429) limited ??= r;
        else assert.fail(`unexpected HTTP ${r.status} during burst: ${r.text}`);
      }
    }
    assert.ok(limited, `${BURST} messages sent as fast as possible were never rate limited`);
    assert.equal(limited.json?.errcode, 'M_LIMIT_EXCEEDED');
    assert.equal(typeof limited.json?.error, 'string');
    assert.equal(typeof limited.json?.retry_after_ms, 'number', `429 must carry retry_after_ms: ${JSON.stringify(limited.json)}`);
    assert.ok(limited.json.retry_after_ms > 0, 'retry_after_ms must be positive');
    const retryAfter = limited.headers.get('retry-after');
    if (retryAfter !== null) assert.match(retryAfter, /^\d+$/, 'Retry-After is a number of seconds');

    // After waiting as told, sending works again, and only accepted messages were stored.
    await sleep(Math.min(limited.json.retry_after_ms + 100, 10_000));
    const again = await requestRetrying429(server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/after-wait`, { token: alice.accessToken, body: { msgtype: 'm.text', body: 'after waiting' } });
    accepted.push(expectOk(again, 'send after retry_after_ms').event_id);
    const stored = (await allMessages(server, alice, roomId)).map((e) => e.event_id);
    assert.deepEqual(stored.slice().sort(), accepted.slice().sort(), 'exactly the accepted messages are stored');
  });
});
