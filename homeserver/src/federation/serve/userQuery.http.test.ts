// Serving our users' devices and keys, the published room directory, space hierarchies and
// OpenID userinfo to other servers, through the real HTTP stack with X-Matrix and LevelDB.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { US } from '../testing/inboundKit.js';
import { withInboundE2ee } from '../testing/inboundE2eeKit.js';

const C = '/_matrix/client/v3';
const F = '/_matrix/federation/v1';

test('it should answer user/devices with our user’s devices, keys, stream_id and cross-signing keys', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const deviceKeys = alice.deviceKeys();
    const up = await k.clientCall('POST', `${C}/keys/upload`, alice.token, { device_keys: deviceKeys });
    assert.equal(up.status, 200);
    const master = { user_id: alice.userId, usage: ['master'], keys: { 'ed25519:M': 'M' } };
    await k.e2ee.service.crossSigning.upload(alice.userId, { master_key: master });
    const res = await k.fedCall('GET', `${F}/user/devices/${encodeURIComponent(alice.userId)}`);
    assert.equal(res.status, 200);
    assert.equal(res.json.user_id, alice.userId);
    assert.deepEqual(res.json.devices.map((d: { device_id: string }) => d.device_id), ['DEV']);
    assert.deepEqual(res.json.devices[0].keys, deviceKeys);
    assert.deepEqual(res.json.master_key.keys, master.keys);
    // The stream_id moves with every change of the list.
    const first = res.json.stream_id as number;
    assert.ok(first > 0);
    await k.e2ee.service.deviceUpdated(alice.userId, 'DEV');
    const later = await k.fedCall('GET', `${F}/user/devices/${encodeURIComponent(alice.userId)}`);
    assert.ok(later.json.stream_id > first);

    const other = await k.fedCall('GET', `${F}/user/devices/${encodeURIComponent('@bob:remote.test')}`);
    assert.equal(other.status, 404);
  });
});

test('it should answer user/keys/query and user/keys/claim for our users only, handing out each one-time key once', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    await k.clientCall('POST', `${C}/keys/upload`, alice.token, { device_keys: alice.deviceKeys(), one_time_keys: alice.oneTimeKeys(1) });
    const q = await k.fedCall('POST', `${F}/user/keys/query`, { device_keys: { [alice.userId]: [], '@eve:elsewhere.test': [] } });
    assert.equal(q.status, 200);
    assert.deepEqual(Object.keys(q.json.device_keys), [alice.userId]);
    assert.equal(q.json.device_keys[alice.userId].DEV.device_id, 'DEV');

    const claim = () => k.fedCall('POST', `${F}/user/keys/claim`, { one_time_keys: { [alice.userId]: { DEV: 'signed_curve25519' } } });
    const c1 = await claim();
    assert.equal(c1.status, 200);
    assert.equal(Object.keys(c1.json.one_time_keys[alice.userId].DEV).length, 1);
    const c2 = await claim();
    assert.deepEqual(c2.json.one_time_keys[alice.userId] ?? {}, {});

    const bad = await k.fedCall('POST', `${F}/user/keys/query`, { device_keys: { [alice.userId]: 'DEV' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.errcode, 'M_BAD_JSON');
  });
});

test('it should serve our published rooms to other servers by GET and POST publicRooms, with filters', async () => {
  await withInboundE2ee(async (k) => {
    const listed = await k.createRoom('alice');
    await k.rooms.storage.published.set(listed, true);
    await k.createRoom('alice'); // not published
    const get = await k.fedCall('GET', `${F}/publicRooms?limit=10`);
    assert.equal(get.status, 200);
    assert.deepEqual(get.json.chunk.map((c: { room_id: string }) => c.room_id), [listed]);
    const miss = await k.fedCall('POST', `${F}/publicRooms`, { filter: { generic_search_term: 'no such room' } });
    assert.equal(miss.status, 200);
    assert.deepEqual(miss.json.chunk, []);
    const unsigned = await k.clientCall('GET', `${F}/publicRooms`, 'x');
    assert.equal(unsigned.status, 401);
  });
});

test('it should describe a space and its accessible children to another server, and 404 a private room', async () => {
  await withInboundE2ee(async (k) => {
    const alice = k.local('alice');
    const { room_id: space } = await k.rooms.creator.createRoom(alice, { preset: 'public_chat', creation_content: { type: 'm.space' } });
    const open = await k.createRoom('alice');
    const { room_id: closed } = await k.rooms.creator.createRoom(alice, { preset: 'private_chat' });
    for (const child of [open, closed]) {
      await k.rooms.events.setState(alice, space, 'm.space.child', child, { via: [US] });
    }
    const res = await k.fedCall('GET', `${F}/hierarchy/${encodeURIComponent(space)}`);
    assert.equal(res.status, 200);
    assert.equal(res.json.room.room_id, space);
    assert.equal(res.json.room.room_type, 'm.space');
    assert.equal(res.json.room.children_state.length, 2);
    assert.deepEqual(res.json.children.map((c: { room_id: string }) => c.room_id), [open]);
    assert.deepEqual(res.json.inaccessible_children, [closed]);
    const priv = await k.fedCall('GET', `${F}/hierarchy/${encodeURIComponent(closed)}`);
    assert.equal(priv.status, 404);
  });
});

test('it should issue an OpenID token to a user and tell a third party whose it is, and refuse unknown tokens', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const issued = await k.clientCall('POST', `${C}/user/${encodeURIComponent(alice.userId)}/openid/request_token`, alice.token, {});
    assert.equal(issued.status, 200);
    assert.equal(issued.json.token_type, 'Bearer');
    assert.equal(issued.json.matrix_server_name, US);
    assert.ok(issued.json.expires_in > 0);
    const info = await k.clientCall('GET', `${F}/openid/userinfo?access_token=${encodeURIComponent(issued.json.access_token)}`, 'unused');
    assert.equal(info.status, 200);
    assert.deepEqual(info.json, { sub: alice.userId });
    const unknown = await k.clientCall('GET', `${F}/openid/userinfo?access_token=nope`, 'unused');
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json.errcode, 'M_UNKNOWN_TOKEN');
    // Only for oneself; and the client access token is not an OpenID token.
    const forOther = await k.clientCall('POST', `${C}/user/${encodeURIComponent('@bob:us.test')}/openid/request_token`, alice.token, {});
    assert.equal(forOther.status, 403);
    const notOpenId = await k.clientCall('GET', `${F}/openid/userinfo?access_token=${alice.token}`, 'unused');
    assert.equal(notOpenId.status, 401);
  });
});
