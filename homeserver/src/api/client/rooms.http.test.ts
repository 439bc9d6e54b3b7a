// The room endpoints through the real HTTP stack (createApp) over a real database:
// what a client sees — status codes, errcodes and bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Requester } from '../../http/route.js';
import { openTestRooms, user, type TestRooms } from '../../rooms/testing.js';
import { expectError, expectOk as ok } from '../../testing/expect.js';
import { serveTestApp, type Call } from '../../testing/http.js';
import { roomRoutes } from './rooms.js';

const C = '/_matrix/client/v3';
const enc = encodeURIComponent;

/** Tokens are simply `<name>` or `<name>/<device>`; admins are named admin*. */
const authenticator = {
  async authenticate(token: string): Promise<Requester | undefined> {
    const [name, deviceId = 'DEV'] = token.split('/');
    return { userId: user(name), deviceId, isAdmin: name.startsWith('admin') };
  },
};

async function withServer(fn: (call: Call, t: TestRooms) => Promise<void>) {
  const t = await openTestRooms();
  const http = await serveTestApp(roomRoutes(t.rooms), authenticator);
  try {
    await fn(http.call, t);
  } finally {
    await http.close();
    await t.dispose();
  }
}

test('it should create a room, send into it, and read state with and without the trailing empty state key', async () => {
  await withServer(async (call) => {
    const { room_id: roomId } = ok(await call('POST', `${C}/createRoom`, { token: 'alice', body: { preset: 'public_chat', name: 'Lobby' } }));
    const base = `${C}/rooms/${enc(roomId)}`;
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: 'bob', body: {} }));
    const sent = ok(await call('PUT', `${base}/send/m.room.message/t1`, { token: 'bob', body: { msgtype: 'm.text', body: 'hi' } }));
    assert.match(sent.event_id, /^\$/);
    assert.deepEqual(ok(await call('PUT', `${base}/send/m.room.message/t1`, { token: 'bob', body: { msgtype: 'm.text', body: 'hi' } })), sent);

    assert.deepEqual(ok(await call('GET', `${base}/state/m.room.name`, { token: 'bob' })), { name: 'Lobby' });
    assert.deepEqual(ok(await call('GET', `${base}/state/m.room.name/`, { token: 'bob' })), { name: 'Lobby' });
    const put = ok(await call('PUT', `${base}/state/m.room.name`, { token: 'alice', body: { name: 'Hall' } }));
    const full = ok(await call('GET', `${base}/state/m.room.name/?format=event`, { token: 'bob' }));
    assert.equal(full.event_id, put.event_id);
    assert.equal(full.unsigned.prev_content.name, 'Lobby');
    ok(await call('PUT', `${base}/state/org.example.thing/${enc(user('alice'))}`, { token: 'alice', body: { v: 1 } }));
    assert.deepEqual(ok(await call('GET', `${base}/state/org.example.thing/${enc(user('alice'))}`, { token: 'bob' })), { v: 1 });
    expectError(await call('GET', `${base}/state/m.room.avatar`, { token: 'bob' }), 404, 'M_NOT_FOUND');

    const state = ok(await call('GET', `${base}/state`, { token: 'bob' }));
    assert.ok(state.some((e: any) => e.type === 'm.room.create' && e.room_id === roomId));
    const ev = ok(await call('GET', `${base}/event/${enc(sent.event_id)}`, { token: 'alice' }));
    assert.deepEqual([ev.type, ev.content.body, ev.room_id], ['m.room.message', 'hi', roomId]);
    expectError(await call('GET', `${base}/event/${enc('$nope')}`, { token: 'alice' }), 404, 'M_NOT_FOUND');
  });
});

test('it should refuse non-members, low-power writers, oversized events and malformed identifiers with the spec errors', async () => {
  await withServer(async (call, t) => {
    const { room_id: roomId } = ok(await call('POST', `${C}/createRoom`, { token: 'alice', body: { preset: 'private_chat' } }));
    const base = `${C}/rooms/${enc(roomId)}`;
    expectError(await call('GET', `${base}/state`, { token: 'eve' }), 403, 'M_FORBIDDEN');
    expectError(await call('GET', `${base}/state/m.room.create`, { token: 'eve' }), 403, 'M_FORBIDDEN');
    expectError(await call('GET', `${base}/members`, { token: 'eve' }), 403, 'M_FORBIDDEN');
    expectError(await call('GET', `${base}/joined_members`, { token: 'eve' }), 403, 'M_FORBIDDEN');
    expectError(await call('GET', `${base}/event/${enc((await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 1 }))[0].eventId)}`, { token: 'eve' }), 404, 'M_NOT_FOUND');
    expectError(await call('PUT', `${base}/send/m.room.message/x`, { token: 'eve', body: { body: 'let me in' } }), 403, 'M_FORBIDDEN');

    ok(await call('POST', `${base}/invite`, { token: 'alice', body: { user_id: user('bob') } }));
    ok(await call('POST', `${base}/join`, { token: 'bob', body: {} }));
    const pl = expectError(await call('PUT', `${base}/state/m.room.power_levels/`, { token: 'bob', body: { users: { [user('bob')]: 100 } } }), 403, 'M_FORBIDDEN');
    assert.match(pl.error, /auth rule/, 'the refusal names the auth rule');

    const timelineBefore = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 });
    expectError(await call('PUT', `${base}/send/m.room.message/big`, { token: 'bob', body: { body: 'x'.repeat(66_000) } }), 413, 'M_TOO_LARGE');
    assert.equal((await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 })).length, timelineBefore.length);

    expectError(await call('PUT', `${C}/rooms/not-a-room/send/m.room.message/x`, { token: 'bob', body: {} }), 400, 'M_INVALID_PARAM');
    expectError(await call('POST', `${base}/invite`, { token: 'alice', body: { user_id: 'bob' } }), 400, 'M_INVALID_PARAM');
    expectError(await call('POST', `${base}/invite`, { token: 'alice', body: {} }), 400, 'M_BAD_JSON');
    expectError(await call('POST', `${C}/createRoom`, { token: 'alice', body: { room_version: '42' } }), 400, 'M_UNSUPPORTED_ROOM_VERSION');
    expectError(await call('POST', `${C}/join/${enc('!unknown:elsewhere.example')}`, { token: 'bob', body: {} }), 404, 'M_NOT_FOUND');
    // Peeking into a room only another server knows: no federation peeking, Synapse's 403.
    for (const path of ['state', 'members', 'state/m.room.name']) {
      const res = await call('GET', `${C}/rooms/${enc('!unknown:elsewhere.example')}/${path}`, { token: 'bob' });
      expectError(res, 403, 'M_FORBIDDEN');
      assert.match(String(res.json.error), /not in room .*room previews are disabled/);
    }
    expectError(await call('POST', `${base}/forget`, { token: 'bob', body: {} }), 400, 'M_UNKNOWN');
  });
});

test('it should filter /members by membership and not_membership, honour `at`, and list joined members and rooms', async () => {
  await withServer(async (call, t) => {
    t.profiles.map.set(user('bob'), { displayname: 'Bobby' });
    const { room_id: roomId } = ok(await call('POST', `${C}/createRoom`, { token: 'alice', body: { preset: 'public_chat' } }));
    const base = `${C}/rooms/${enc(roomId)}`;
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: 'bob', body: {} }));
    const at = `s${t.counter.persisted}`;
    ok(await call('POST', `${base}/invite`, { token: 'alice', body: { user_id: user('carol') } }));
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: 'dave', body: {} }));
    ok(await call('POST', `${base}/leave`, { token: 'dave', body: {} }));
    const members = async (qs: string, token = 'alice') => {
      const chunk = ok(await call('GET', `${base}/members${qs}`, { token })).chunk as any[];
      return Object.fromEntries(chunk.map((e) => [e.state_key, e.content.membership]));
    };
    assert.deepEqual(await members(''), { [user('alice')]: 'join', [user('bob')]: 'join', [user('carol')]: 'invite', [user('dave')]: 'leave' });
    assert.deepEqual(await members('?membership=join'), { [user('alice')]: 'join', [user('bob')]: 'join' });
    assert.deepEqual(await members('?not_membership=join'), { [user('carol')]: 'invite', [user('dave')]: 'leave' });
    assert.deepEqual(await members('?membership=leave&not_membership=join'), { [user('carol')]: 'invite', [user('dave')]: 'leave' }, 'both filters are an OR');
    assert.deepEqual(await members(`?at=${at}`), { [user('alice')]: 'join', [user('bob')]: 'join' }, 'members as of the token');
    expectError(await call('GET', `${base}/members?at=${enc('$event')}`, { token: 'alice' }), 400, 'M_INVALID_PARAM');
    // Dave left: he reads the members as they were when he left.
    assert.deepEqual(await members('', 'dave'), { [user('alice')]: 'join', [user('bob')]: 'join', [user('carol')]: 'invite', [user('dave')]: 'leave' });
    ok(await call('PUT', `${base}/state/m.room.topic`, { token: 'alice', body: { topic: 'after dave left' } }));
    expectError(await call('GET', `${base}/state/m.room.topic`, { token: 'dave' }), 404, 'M_NOT_FOUND');
    ok(await call('POST', `${base}/forget`, { token: 'dave', body: {} }));
    expectError(await call('GET', `${base}/members`, { token: 'dave' }), 403, 'M_FORBIDDEN');

    const joined = ok(await call('GET', `${base}/joined_members`, { token: 'bob' })).joined;
    assert.deepEqual(Object.keys(joined).sort(), [user('alice'), user('bob')].sort());
    assert.equal(joined[user('bob')].display_name, 'Bobby');
    assert.deepEqual(ok(await call('GET', `${C}/joined_rooms`, { token: 'bob' })).joined_rooms, [roomId]);
    assert.deepEqual(ok(await call('GET', `${C}/joined_rooms`, { token: 'carol' })).joined_rooms, []);
  });
});

test('it should create, resolve, list and delete aliases with the directory rules', async () => {
  await withServer(async (call) => {
    const { room_id: roomId, room_alias } = ok(
      await call('POST', `${C}/createRoom`, { token: 'alice', body: { preset: 'public_chat', room_alias_name: 'lobby' } }),
    );
    assert.equal(room_alias, '#lobby:test.parley');
    expectError(await call('POST', `${C}/createRoom`, { token: 'bob', body: { room_alias_name: 'lobby' } }), 400, 'M_ROOM_IN_USE');
    const resolved = ok(await call('GET', `${C}/directory/room/${enc('#lobby:test.parley')}`));
    assert.deepEqual(resolved, { room_id: roomId, servers: ['test.parley'] });

    const extra = `${C}/directory/room/${enc('#extra:test.parley')}`;
    expectError(await call('GET', extra, { token: 'bob' }), 404, 'M_NOT_FOUND');
    expectError(await call('PUT', extra, { token: 'bob', body: { room_id: roomId } }), 403, 'M_FORBIDDEN');
    ok(await call('PUT', extra, { token: 'alice', body: { room_id: roomId } }));
    expectError(await call('PUT', extra, { token: 'alice', body: { room_id: roomId } }), 409, 'M_UNKNOWN');
    expectError(await call('PUT', `${C}/directory/room/${enc('#no-colon')}`, { token: 'alice', body: { room_id: roomId } }), 400, 'M_INVALID_PARAM');
    expectError(await call('PUT', `${C}/directory/room/${enc('#x:elsewhere.example')}`, { token: 'alice', body: { room_id: roomId } }), 400, 'M_INVALID_PARAM');
    expectError(await call('GET', `${C}/directory/room/${enc('#x:elsewhere.example')}`), 404, 'M_NOT_FOUND');
    assert.deepEqual(ok(await call('GET', `${C}/rooms/${enc(roomId)}/aliases`, { token: 'alice' })).aliases.sort(), ['#extra:test.parley', '#lobby:test.parley']);
    expectError(await call('GET', `${C}/rooms/${enc(roomId)}/aliases`, { token: 'eve' }), 403, 'M_FORBIDDEN');

    // Deleting: not a plain member, but the alias creator, a moderator of the room, or an admin.
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: 'bob', body: {} }));
    expectError(await call('DELETE', extra, { token: 'bob' }), 403, 'M_FORBIDDEN');
    ok(await call('DELETE', extra, { token: 'alice' }));
    expectError(await call('DELETE', extra, { token: 'alice' }), 404, 'M_NOT_FOUND');
    ok(await call('PUT', extra, { token: 'bob', body: { room_id: roomId } }));
    ok(await call('DELETE', extra, { token: 'alice' }));
    ok(await call('DELETE', `${C}/directory/room/${enc('#lobby:test.parley')}`, { token: 'admin' }));
    assert.deepEqual(ok(await call('GET', `${C}/rooms/${enc(roomId)}/aliases`, { token: 'alice' })).aliases, []);
  });
});
