// Durability across a clean restart: everything a user had is still there.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverForTest } from './harness/hooks.js';
import {
  allMessages,
  createRoom,
  enc,
  expectOk,
  invite,
  joinRoom,
  login,
  loginRaw,
  rawRequest,
  registerUser,
  sendText,
  sync,
  syncTimeline,
  type Json,
} from './harness/http.js';

describe('clean restart', () => {
  it('should keep tokens, devices, rooms, profile and history across stop + restart', async (t) => {
    const server = await serverForTest(t);
    const alice = await registerUser(server, undefined, { displayName: 'Alice phone' });
    const laptop = await login(server, alice, 'LAPTOP');
    const bob = await registerUser(server);
    expectOk(await rawRequest(server, 'PUT', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`, { token: alice.accessToken, body: { displayname: 'Alice R.' } }), 'displayname');
    const roomId = await createRoom(server, alice, { preset: 'private_chat', name: 'Survives restarts', topic: 'durable' });
    await invite(server, alice, roomId, bob.userId);
    await joinRoom(server, bob, roomId);
    const sent: string[] = [];
    for (let i = 0; i < 25; i++) sent.push(await sendText(server, i % 2 ? bob : alice, roomId, `before restart ${i}`));
    const filter = expectOk(await rawRequest(server, 'POST', `/_matrix/client/v3/user/${enc(bob.userId)}/filter`, { token: bob.accessToken, body: { room: { timeline: { limit: 5 } } } }), 'filter').filter_id;
    const bobSync = await sync(server, bob, { timeout: 0 });
    const aliasLocal = `durable${Date.now()}`;
    expectOk(await rawRequest(server, 'PUT', `/_matrix/client/v3/directory/room/${enc(`#${aliasLocal}:${server.serverName}`)}`, { token: alice.accessToken, body: { room_id: roomId } }), 'alias');

    const stopped = await server.stop();
    assert.equal(stopped.forced, false, 'the server must exit on SIGTERM without needing SIGKILL');
    assert.ok(stopped.code === 0 || stopped.signal === 'SIGTERM', `clean shutdown should exit 0, got code=${stopped.code} signal=${stopped.signal}`);
    await server.restart();

    // Old tokens still work.
    const me = expectOk(await rawRequest(server, 'GET', '/_matrix/client/v3/account/whoami', { token: alice.accessToken }), 'whoami with pre-restart token');
    assert.equal(me.user_id, alice.userId);
    assert.equal(me.device_id, alice.deviceId);
    expectOk(await rawRequest(server, 'GET', '/_matrix/client/v3/account/whoami', { token: laptop.accessToken }), 'second device token');
    // Devices.
    const devices = expectOk(await rawRequest(server, 'GET', '/_matrix/client/v3/devices', { token: alice.accessToken }), 'devices');
    const byId = Object.fromEntries(devices.devices.map((d: Json) => [d.device_id, d]));
    assert.deepEqual(Object.keys(byId).sort(), [alice.deviceId, 'LAPTOP'].sort());
    assert.equal(byId[alice.deviceId].display_name, 'Alice phone');
    // Passwords, profile.
    expectOk(await loginRaw(server, alice.userId, alice.password), 'password login after restart');
    assert.equal(expectOk(await rawRequest(server, 'GET', `/_matrix/client/v3/profile/${enc(alice.userId)}/displayname`), 'displayname').displayname, 'Alice R.');
    // Rooms and state.
    const joined = expectOk(await rawRequest(server, 'GET', '/_matrix/client/v3/joined_rooms', { token: bob.accessToken }), 'joined_rooms').joined_rooms;
    assert.deepEqual(joined, [roomId]);
    assert.equal(expectOk(await rawRequest(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.name/`, { token: bob.accessToken }), 'name').name, 'Survives restarts');
    assert.equal(expectOk(await rawRequest(server, 'GET', `/_matrix/client/v3/directory/room/${enc(`#${aliasLocal}:${server.serverName}`)}`, { token: bob.accessToken }), 'alias').room_id, roomId);
    // History in order.
    const history = await allMessages(server, bob, roomId);
    assert.deepEqual(history.map((e) => e.event_id), sent, 'all messages survive, in order');
    // Filters.
    const f = expectOk(await rawRequest(server, 'GET', `/_matrix/client/v3/user/${enc(bob.userId)}/filter/${enc(filter)}`, { token: bob.accessToken }), 'filter after restart');
    assert.equal(f.room?.timeline?.limit, 5);

    // A client resuming with its pre-restart since token gets exactly what is new.
    const fresh = await sendText(server, alice, roomId, 'after restart');
    const resumed = await sync(server, bob, { since: bobSync.next_batch, timeout: 5000 });
    assert.deepEqual(syncTimeline(resumed, roomId).filter((e: Json) => e.type === 'm.room.message').map((e: Json) => e.event_id), [fresh],
      'a pre-restart since token resumes exactly after the last event seen');
    // New IDs do not collide with old ones.
    assert.ok(!sent.includes(fresh));
    const another = await registerUser(server);
    expectOk(await rawRequest(server, 'GET', '/_matrix/client/v3/account/whoami', { token: another.accessToken }), 'registration works after restart');
  });
});
