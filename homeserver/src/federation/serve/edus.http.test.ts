// Inbound EDUs through PUT /send (real X-Matrix, LevelDB, e2ee and sync modules): to-device
// messages, device-list and cross-signing updates with the remote device cache, presence.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FederationRequest } from '@parley/federation/transport/federationClient';
import { REMOTE } from '../testing/inboundKit.js';
import { withInboundE2ee, type InboundE2eeKit } from '../testing/inboundE2eeKit.js';
import { FederationSender } from '../outbound/sender.js';

const C = '/_matrix/client/v3';
let txn = 0;

async function sendEdus(k: InboundE2eeKit, edus: Array<{ edu_type: string; content: Record<string, unknown> }>): Promise<void> {
  const res = await k.fedCall('PUT', `/_matrix/federation/v1/send/t${++txn}`, { origin: REMOTE, origin_server_ts: Date.now(), pdus: [], edus });
  assert.equal(res.status, 200);
}

/** A remote device's keys as its client would publish them (the cache stores them as given). */
function remoteKeys(userId: string, deviceId: string) {
  return {
    user_id: userId,
    device_id: deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2'],
    keys: { [`curve25519:${deviceId}`]: `curve-${deviceId}`, [`ed25519:${deviceId}`]: `ed-${deviceId}` },
    signatures: { [userId]: { [`ed25519:${deviceId}`]: 'sig' } },
  };
}

/** The fake remote answers user/devices for `userId` with the given list, and counts the calls. */
function serveDevices(k: InboundE2eeKit, userId: string, list: () => { stream_id: number; devices: string[] }): () => number {
  let calls = 0;
  k.remote.override((req: FederationRequest, url: URL) => {
    if (req.method !== 'GET' || decodeURIComponent(url.pathname) !== `/_matrix/federation/v1/user/devices/${userId}`) return undefined;
    calls++;
    const l = list();
    return {
      ok: true,
      status: 200,
      body: { user_id: userId, stream_id: l.stream_id, devices: l.devices.map((d) => ({ device_id: d, keys: remoteKeys(userId, d), device_display_name: `${d} phone` })) },
    };
  });
  return () => calls;
}

test('it should deliver a to-device EDU to the local device through /sync exactly once, even when the transaction is retried', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const bob = k.remote.user('bob');
    const first = await k.clientCall('GET', `${C}/sync`, alice.token);
    const edu = {
      edu_type: 'm.direct_to_device',
      content: { sender: bob, type: 'm.room_key_request', message_id: 'msg1', messages: { [alice.userId]: { '*': { action: 'request', n: 1 } } } },
    };
    await sendEdus(k, [edu]);
    await sendEdus(k, [edu]); // the same message_id in a new transaction
    const second = await k.clientCall('GET', `${C}/sync?since=${first.json.next_batch}`, alice.token);
    assert.deepEqual(second.json.to_device.events, [{ type: 'm.room_key_request', sender: bob, content: { action: 'request', n: 1 } }]);
    const third = await k.clientCall('GET', `${C}/sync?since=${second.json.next_batch}&timeout=0`, alice.token);
    assert.deepEqual(third.json.to_device?.events ?? [], []);
  });
});

test('it should drop a to-device EDU whose sender is not a user of the origin server', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const first = await k.clientCall('GET', `${C}/sync`, alice.token);
    await sendEdus(k, [
      {
        edu_type: 'm.direct_to_device',
        content: { sender: '@mallory:elsewhere.test', type: 'm.test', message_id: 'm1', messages: { [alice.userId]: { DEV: { x: 1 } } } },
      },
    ]);
    const second = await k.clientCall('GET', `${C}/sync?since=${first.json.next_batch}&timeout=0`, alice.token);
    assert.deepEqual(second.json.to_device?.events ?? [], []);
  });
});

test('it should cache a remote user’s devices from a resync and updates, show them in /keys/query, and mark them changed in /sync', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    let snapshot = { stream_id: 5, devices: ['B1'] };
    const resyncs = serveDevices(k, bob, () => snapshot);
    const before = await k.clientCall('GET', `${C}/sync`, alice.token);

    // A first update with no prev_id: the list is fetched whole.
    await sendEdus(k, [{ edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B1', stream_id: 5, prev_id: [], keys: remoteKeys(bob, 'B1') } }]);
    assert.equal(resyncs(), 1);
    const afterFirst = await k.clientCall('GET', `${C}/sync?since=${before.json.next_batch}&timeout=0`, alice.token);
    assert.ok(afterFirst.json.device_lists.changed.includes(bob));

    // The next update in sequence is applied without asking again.
    snapshot = { stream_id: 99, devices: [] };
    await sendEdus(k, [
      { edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B2', stream_id: 6, prev_id: [5], device_display_name: 'tablet', keys: remoteKeys(bob, 'B2') } },
    ]);
    assert.equal(resyncs(), 1);
    const afterSecond = await k.clientCall('GET', `${C}/sync?since=${afterFirst.json.next_batch}&timeout=0`, alice.token);
    assert.deepEqual(afterSecond.json.device_lists.changed, [bob]);

    const query = await k.clientCall('POST', `${C}/keys/query`, alice.token, { device_keys: { [bob]: [] } });
    assert.equal(query.status, 200);
    assert.deepEqual(Object.keys(query.json.device_keys[bob]).sort(), ['B1', 'B2']);
    assert.equal(query.json.device_keys[bob].B2.unsigned.device_display_name, 'tablet');
    assert.deepEqual(query.json.failures, {});
    // Answered from the cache: the remote was never asked for keys.
    assert.equal(k.remote.calls.filter((c) => c.path.includes('/user/keys/query')).length, 0);

    // A deletion in sequence takes the device out.
    await sendEdus(k, [{ edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B1', stream_id: 7, prev_id: [6], deleted: true } }]);
    const after = await k.clientCall('POST', `${C}/keys/query`, alice.token, { device_keys: { [bob]: [] } });
    assert.deepEqual(Object.keys(after.json.device_keys[bob]), ['B2']);
  });
});

test('it should resync from user/devices when an update’s prev_id is one it has not seen', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    let snapshot = { stream_id: 5, devices: ['B1'] };
    const resyncs = serveDevices(k, bob, () => snapshot);
    await sendEdus(k, [{ edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B1', stream_id: 5, prev_id: [] } }]);
    assert.equal(resyncs(), 1);
    // Updates 6 and 7 were lost; 8 refers to 7.
    snapshot = { stream_id: 8, devices: ['B1', 'B3', 'B4'] };
    await sendEdus(k, [{ edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B4', stream_id: 8, prev_id: [7], keys: remoteKeys(bob, 'B4') } }]);
    assert.equal(resyncs(), 2);
    const query = await k.clientCall('POST', `${C}/keys/query`, alice.token, { device_keys: { [bob]: [] } });
    assert.deepEqual(Object.keys(query.json.device_keys[bob]).sort(), ['B1', 'B3', 'B4']);
    // An update already covered by the snapshot changes nothing and asks nothing.
    await sendEdus(k, [{ edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B3', stream_id: 7, prev_id: [6], deleted: true } }]);
    assert.equal(resyncs(), 2);
    const again = await k.clientCall('POST', `${C}/keys/query`, alice.token, { device_keys: { [bob]: [] } });
    assert.deepEqual(Object.keys(again.json.device_keys[bob]).sort(), ['B1', 'B3', 'B4']);
  });
});

test('it should ignore device-list updates about users no local user shares a room with, or of another server', async () => {
  await withInboundE2ee(async (k) => {
    await k.device('alice');
    await k.createRoom('alice');
    const stranger = k.remote.user('stranger');
    const resyncs = serveDevices(k, stranger, () => ({ stream_id: 1, devices: ['S1'] }));
    await sendEdus(k, [
      { edu_type: 'm.device_list_update', content: { user_id: stranger, device_id: 'S1', stream_id: 1, prev_id: [] } },
      { edu_type: 'm.device_list_update', content: { user_id: '@eve:elsewhere.test', device_id: 'E1', stream_id: 1, prev_id: [] } },
    ]);
    assert.equal(resyncs(), 0);
    assert.equal(await k.remoteDevices.fresh(stranger), undefined);
  });
});

test('it should replace a remote user’s cached cross-signing keys on m.signing_key_update and tell room-mates', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    serveDevices(k, bob, () => ({ stream_id: 1, devices: ['B1'] }));
    await sendEdus(k, [{ edu_type: 'm.device_list_update', content: { user_id: bob, device_id: 'B1', stream_id: 1, prev_id: [] } }]);
    const before = await k.clientCall('GET', `${C}/sync`, alice.token);
    const master = { user_id: bob, usage: ['master'], keys: { 'ed25519:MASTER': 'MASTER' } };
    const selfSigning = { user_id: bob, usage: ['self_signing'], keys: { 'ed25519:SSK': 'SSK' }, signatures: { [bob]: { 'ed25519:MASTER': 'sig' } } };
    await sendEdus(k, [{ edu_type: 'm.signing_key_update', content: { user_id: bob, master_key: master, self_signing_key: selfSigning } }]);
    const after = await k.clientCall('GET', `${C}/sync?since=${before.json.next_batch}&timeout=0`, alice.token);
    assert.deepEqual(after.json.device_lists.changed, [bob]);
    const query = await k.clientCall('POST', `${C}/keys/query`, alice.token, { device_keys: { [bob]: [] } });
    assert.deepEqual(query.json.master_keys[bob], master);
    assert.deepEqual(query.json.self_signing_keys[bob], selfSigning);
  });
});

test('it should show a remote room-mate’s presence from an m.presence EDU in /sync', async () => {
  await withInboundE2ee(async (k) => {
    const alice = await k.device('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    const before = await k.clientCall('GET', `${C}/sync?set_presence=offline`, alice.token);
    await sendEdus(k, [
      {
        edu_type: 'm.presence',
        content: {
          push: [
            { user_id: bob, presence: 'online', status_msg: 'here', last_active_ago: 1000, currently_active: true },
            { user_id: '@eve:elsewhere.test', presence: 'online', last_active_ago: 0 },
          ],
        },
      },
    ]);
    const after = await k.clientCall('GET', `${C}/sync?since=${before.json.next_batch}&timeout=0&set_presence=offline`, alice.token);
    const events = after.json.presence.events as Array<{ sender: string; content: Record<string, unknown> }>;
    assert.deepEqual(events.map((e) => e.sender), [bob]);
    assert.equal(events[0].content.presence, 'online');
    assert.equal(events[0].content.status_msg, 'here');
    assert.equal(events[0].content.currently_active, true);
  });
});

test('it should not send remote users’ typing and receipts back out as EDUs', async () => {
  const queued: string[] = [];
  const sender = new FederationSender({
    serverName: 'us.test',
    reader: { joinedServers: async () => ['remote.test'] },
    queues: { enqueuePdu: async () => undefined, enqueueEdu: async (_d, edu) => void queued.push(edu.edu_type) },
    onError: () => undefined,
  } as ConstructorParameters<typeof FederationSender>[0]);
  sender.typingChanged({ roomId: '!r:us.test', userId: '@bob:remote.test', typing: true });
  sender.receiptSet({ roomId: '!r:us.test', userId: '@bob:remote.test', type: 'm.read', eventId: '$e', thread: '', ts: 1 });
  sender.typingChanged({ roomId: '!r:us.test', userId: '@alice:us.test', typing: true });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(queued, ['m.typing']);
});
