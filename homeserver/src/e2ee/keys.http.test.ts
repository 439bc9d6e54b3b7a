// The key endpoints through the HTTP stack: what a client sees, errors included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, FakeCrossSigningKey, FakeDevice, PASSWORD, withE2ee } from './testKit.js';

const MSC3814 = '/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device';

describe('/keys over HTTP', () => {
  it('it should upload, query and claim keys', async () => {
    await withE2ee(async (k) => {
      const [alice, bob] = [await k.register('alice'), await k.register('bob')];
      const up = await k.call('POST', `${C}/keys/upload`, {
        token: alice.token,
        body: { device_keys: alice.deviceKeys(), one_time_keys: alice.oneTimeKeys(1) },
      });
      assert.equal(up.status, 200);
      assert.deepEqual(up.json, { one_time_key_counts: { signed_curve25519: 1 } });
      const q = await k.call('POST', `${C}/keys/query`, { token: bob.token, body: { device_keys: { [alice.userId]: [] } } });
      assert.equal(q.status, 200);
      assert.deepEqual(Object.keys(q.json.device_keys[alice.userId]), [alice.deviceId]);
      const c = await k.call('POST', `${C}/keys/claim`, {
        token: bob.token,
        body: { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } },
      });
      assert.equal(c.status, 200);
      assert.equal(Object.keys(c.json.one_time_keys[alice.userId][alice.deviceId]).length, 1);
    });
  });

  it('it should answer bad keys with the spec’s errors', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const keys = alice.deviceKeys();
      const forged = await k.call('POST', `${C}/keys/upload`, { token: alice.token, body: { device_keys: { ...keys, algorithms: [] } } });
      assert.equal(forged.status, 400);
      assert.equal(forged.json.errcode, 'M_INVALID_SIGNATURE');
      const malformed = await k.call('POST', `${C}/keys/upload`, { token: alice.token, body: { device_keys: { ...keys, keys: [1, 2] } } });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.errcode, 'M_BAD_JSON');
      const anonymous = await k.call('POST', `${C}/keys/query`, { body: { device_keys: {} } });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.json.errcode, 'M_MISSING_TOKEN');
      const badUser = await k.call('POST', `${C}/keys/query`, { token: alice.token, body: { device_keys: { bob: [] } } });
      assert.equal(badUser.status, 400);
      assert.equal(badUser.json.errcode, 'M_INVALID_PARAM');
    });
  });

  it('it should demand the password to replace cross-signing keys, not to set them up', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const path = `${C}/keys/device_signing/upload`;
      const m1 = new FakeCrossSigningKey();
      const first = { master_key: m1.object(alice.userId, 'master'), self_signing_key: new FakeCrossSigningKey().object(alice.userId, 'self_signing', m1) };
      assert.equal((await k.call('POST', path, { token: alice.token, body: first })).status, 200);
      assert.equal((await k.call('POST', path, { token: alice.token, body: first })).status, 200, 'the same keys again');

      const m2 = new FakeCrossSigningKey();
      const replacement = { master_key: m2.object(alice.userId, 'master') };
      const challenge = await k.call('POST', path, { token: alice.token, body: replacement });
      assert.equal(challenge.status, 401);
      assert.deepEqual(challenge.json.flows, [{ stages: ['m.login.password'] }]);
      const session = challenge.json.session;
      const identifier = { type: 'm.id.user', user: alice.userId };
      const wrong = await k.call('POST', path, {
        token: alice.token,
        body: { ...replacement, auth: { type: 'm.login.password', session, identifier, password: 'nope' } },
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.json.errcode, 'M_FORBIDDEN');
      const right = await k.call('POST', path, {
        token: alice.token,
        body: { ...replacement, auth: { type: 'm.login.password', session, identifier, password: PASSWORD } },
      });
      assert.equal(right.status, 200, JSON.stringify(right.json));
      const q = await k.call('POST', `${C}/keys/query`, { token: alice.token, body: { device_keys: { [alice.userId]: [] } } });
      assert.deepEqual(q.json.master_keys[alice.userId], replacement.master_key);
    });
  });

  it('it should list signatures that fail in failures', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      await k.call('POST', `${C}/keys/upload`, { token: alice.token, body: { device_keys: alice.deviceKeys() } });
      const res = await k.call('POST', `${C}/keys/signatures/upload`, {
        token: alice.token,
        body: { [alice.userId]: { [alice.deviceId]: new FakeCrossSigningKey().signAs(alice.userId, alice.deviceKeys()) } },
      });
      assert.equal(res.status, 200);
      assert.equal(res.json.failures[alice.userId][alice.deviceId].errcode, 'M_INVALID_SIGNATURE');
    });
  });
});

describe('dehydrated devices (MSC3814)', () => {
  it('it should keep a dehydrated device with its keys and queue until the user rehydrates it', async () => {
    await withE2ee(async (k) => {
      const [alice, bob] = [await k.register('alice'), await k.register('bob')];
      assert.equal((await k.call('GET', MSC3814, { token: alice.token })).status, 404);
      const dehydrated = new FakeDevice(alice.userId, 'DEHYDRATED1', '');
      const put = await k.call('PUT', MSC3814, {
        token: alice.token,
        body: {
          device_id: dehydrated.deviceId,
          device_data: { algorithm: 'test', secret: 'encrypted' },
          device_keys: dehydrated.deviceKeys({ dehydrated: true }),
          one_time_keys: dehydrated.oneTimeKeys(2),
        },
      });
      assert.equal(put.status, 200, JSON.stringify(put.json));
      assert.deepEqual(put.json, { device_id: dehydrated.deviceId });
      assert.deepEqual((await k.call('GET', MSC3814, { token: alice.token })).json, {
        device_id: dehydrated.deviceId,
        device_data: { algorithm: 'test', secret: 'encrypted' },
      });
      const q = await k.call('POST', `${C}/keys/query`, { token: bob.token, body: { device_keys: { [alice.userId]: [] } } });
      assert.ok(q.json.device_keys[alice.userId][dehydrated.deviceId], 'other users see the device');

      await k.call('PUT', `${C}/sendToDevice/m.room_key/t1`, { token: bob.token, body: { messages: { [alice.userId]: { [dehydrated.deviceId]: { k: 1 } } } } });
      const events = `${MSC3814}/${dehydrated.deviceId}/events`;
      const first = await k.call('POST', events, { token: alice.token, body: {} });
      assert.deepEqual(first.json.events.map((e: { content: unknown }) => e.content), [{ k: 1 }]);
      const second = await k.call('POST', events, { token: alice.token, body: { next_batch: first.json.next_batch } });
      assert.deepEqual(second.json.events, []);
      assert.equal((await k.call('POST', `${MSC3814}/${alice.deviceId}/events`, { token: alice.token, body: {} })).status, 403);

      // MSC3814: reading on from a next_batch deletes nothing, so an interrupted rehydration can start again.
      await k.call('PUT', `${C}/sendToDevice/m.room_key/t2`, { token: bob.token, body: { messages: { [alice.userId]: { [dehydrated.deviceId]: { k: 2 } } } } });
      const again = await k.call('POST', events, { token: alice.token, body: {} });
      assert.deepEqual(again.json.events.map((e: { content: unknown }) => e.content), [{ k: 1 }, { k: 2 }]);
      const rest = await k.call('POST', events, { token: alice.token, body: { next_batch: first.json.next_batch } });
      assert.deepEqual(rest.json.events.map((e: { content: unknown }) => e.content), [{ k: 2 }]);
      const last = await k.call('POST', events, { token: alice.token, body: { next_batch: rest.json.next_batch } });
      assert.deepEqual(last.json, { events: [], next_batch: rest.json.next_batch }, 'the last batch still has a next_batch');

      // matrix-js-sdk fetches with GET ?from= and stops when next_batch is absent.
      const page = await k.call('GET', events, { token: alice.token });
      assert.deepEqual(page.json.events.map((e: { content: unknown }) => e.content), [{ k: 1 }, { k: 2 }]);
      assert.equal(typeof page.json.next_batch, 'string');
      const end = await k.call('GET', `${events}?from=${encodeURIComponent(page.json.next_batch)}`, { token: alice.token });
      assert.deepEqual(end.json, { events: [] }, 'no next_batch once nothing is left, so the client stops');
      assert.equal((await k.call('GET', `${MSC3814}/${alice.deviceId}/events`, { token: alice.token })).status, 403);

      assert.deepEqual((await k.call('DELETE', MSC3814, { token: alice.token })).json, { device_id: dehydrated.deviceId });
      assert.equal((await k.call('GET', MSC3814, { token: alice.token })).status, 404);
      const after = await k.call('POST', `${C}/keys/query`, { token: bob.token, body: { device_keys: { [alice.userId]: [] } } });
      assert.equal(after.json.device_keys[alice.userId][dehydrated.deviceId], undefined);
    });
  });
  // As Synapse: the dehydrated device is one of the user's devices in GET /devices (clients such as
  // Element hide it by the `dehydrated` flag of its device keys, which /keys/query passes on).
  it('it should list the dehydrated device among the user’s devices with its dehydrated flag, until it is deleted', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const dehydrated = new FakeDevice(alice.userId, 'DEHYDRATED2', '');
      const put = await k.call('PUT', MSC3814, {
        token: alice.token,
        body: {
          device_id: dehydrated.deviceId,
          device_data: { algorithm: 'test' },
          initial_device_display_name: 'Offline device',
          device_keys: dehydrated.deviceKeys({ dehydrated: true }),
          one_time_keys: dehydrated.oneTimeKeys(1),
        },
      });
      assert.equal(put.status, 200, JSON.stringify(put.json));
      const listed = await k.call('GET', `${C}/devices`, { token: alice.token });
      const ids = listed.json.devices.map((d: { device_id: string }) => d.device_id).sort();
      assert.deepEqual(ids, [alice.deviceId, dehydrated.deviceId].sort());
      const entry = listed.json.devices.find((d: { device_id: string }) => d.device_id === dehydrated.deviceId);
      assert.equal(entry.display_name, 'Offline device');
      const q = await k.call('POST', `${C}/keys/query`, { token: alice.token, body: { device_keys: { [alice.userId]: [] } } });
      assert.equal(q.json.device_keys[alice.userId][dehydrated.deviceId].dehydrated, true);
      assert.equal(q.json.device_keys[alice.userId][alice.deviceId]?.dehydrated, undefined);

      // Deleted through device management: it is no longer offered for rehydration.
      await k.accounts.devices.deleteDevices(alice.userId, [dehydrated.deviceId]);
      assert.equal((await k.call('GET', MSC3814, { token: alice.token })).status, 404);
      const after = await k.call('GET', `${C}/devices`, { token: alice.token });
      assert.deepEqual(after.json.devices.map((d: { device_id: string }) => d.device_id), [alice.deviceId]);
    });
  });
});
