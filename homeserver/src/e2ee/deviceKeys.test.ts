// Device keys, one-time keys and fallback keys through the key server on a real database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsWith, withE2ee } from './testKit.js';

describe('device keys', () => {
  it('it should publish signed device keys and show them with the display name to other users', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      await k.accounts.devices.renameDevice(alice.userId, alice.deviceId, 'Alice phone');
      const keys = alice.deviceKeys();
      const res = await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: keys });
      assert.deepEqual(res.one_time_key_counts, { signed_curve25519: 0 });
      const q = await k.e2ee.service.keys.query(bob.userId, { [alice.userId]: [] });
      const got = q.device_keys[alice.userId][alice.deviceId];
      assert.deepEqual({ ...got, unsigned: undefined }, { ...keys, unsigned: undefined });
      assert.deepEqual(got.unsigned, { device_display_name: 'Alice phone' });
      assert.deepEqual(q.failures, {});
    });
  });

  it('it should refuse device keys with a bad or missing self-signature and store nothing', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const signed = alice.deviceKeys();
      const tampered = { ...signed, algorithms: ['m.olm.v1.curve25519-aes-sha2'] };
      await rejectsWith(k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: tampered }), 'M_INVALID_SIGNATURE', 400);
      const unsigned = { ...signed, signatures: {} };
      await rejectsWith(
        k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: unsigned, one_time_keys: alice.oneTimeKeys(2) }),
        'M_INVALID_SIGNATURE',
        400,
      );
      const q = await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [] });
      assert.deepEqual(q.device_keys[alice.userId], {}, 'no device keys stored');
      assert.deepEqual(await k.e2ee.service.oneTimeKeyCounts(alice.userId, alice.deviceId), { signed_curve25519: 0 }, 'no one-time keys stored');
    });
  });

  it('it should refuse keys for another user or another device', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      await rejectsWith(k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: bob.deviceKeys() }), 'M_FORBIDDEN', 403);
      const otherDevice = await k.login(alice.userId, 'ALICE2');
      await rejectsWith(
        k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: otherDevice.deviceKeys() }),
        'M_INVALID_PARAM',
        400,
      );
      const q = await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [], [bob.userId]: [] });
      assert.deepEqual(q.device_keys[alice.userId], {});
      assert.deepEqual(q.device_keys[bob.userId], {});
    });
  });

  it('it should accept an identical re-upload but never replace identity keys', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const first = alice.deviceKeys();
      await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: first });
      await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: first });
      await rejectsWith(k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() }), 'M_INVALID_PARAM', 400);
      const q = await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [alice.deviceId] });
      assert.deepEqual(q.device_keys[alice.userId][alice.deviceId].keys, first.keys, 'the first keys stay');
    });
  });
});

describe('one-time and fallback keys', () => {
  it('it should count uploaded one-time keys and refuse a key ID re-uploaded with other content', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const otks = alice.oneTimeKeys(3);
      const res = await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys(), one_time_keys: otks });
      assert.deepEqual(res.one_time_key_counts, { signed_curve25519: 3 });
      // The same keys again (a retried request) change nothing.
      assert.deepEqual((await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { one_time_keys: otks })).one_time_key_counts, {
        signed_curve25519: 3,
      });
      const [id] = Object.keys(otks);
      const other = { [id]: alice.sign({ key: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }) };
      await rejectsWith(k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { one_time_keys: { ...alice.oneTimeKeys(1), ...other } }), 'M_UNKNOWN', 400);
      assert.deepEqual(await k.e2ee.service.oneTimeKeyCounts(alice.userId, alice.deviceId), { signed_curve25519: 3 }, 'nothing of the refused upload stored');
    });
  });

  it('it should refuse one-time keys not signed by the device', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const mallory = await k.register('mallory');
      await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() });
      const forged = { 'signed_curve25519:X1': { key: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', signatures: mallory.oneTimeKeys(1)['signed_curve25519:AAAA1'].signatures } };
      await rejectsWith(k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { one_time_keys: forged }), 'M_INVALID_SIGNATURE', 400);
      await rejectsWith(
        k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { one_time_keys: { 'signed_curve25519:X2': 'bare' } }),
        'M_INVALID_PARAM',
        400,
      );
      assert.deepEqual(await k.e2ee.service.oneTimeKeyCounts(alice.userId, alice.deviceId), { signed_curve25519: 0 });
    });
  });

  it('it should hand out each one-time key exactly once, oldest upload first, then the fallback key', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const keys = k.e2ee.service.keys;
      const firstBatch = alice.oneTimeKeys(2);
      await keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys(), one_time_keys: firstBatch, fallback_keys: alice.fallbackKey() });
      const secondBatch = alice.oneTimeKeys(4);
      await keys.upload(alice.userId, alice.deviceId, { one_time_keys: secondBatch });
      assert.deepEqual(await k.e2ee.service.unusedFallbackKeyTypes(alice.userId, alice.deviceId), ['signed_curve25519']);

      const claimOne = async () => {
        const r = await keys.claim({ [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } });
        return Object.entries(r.one_time_keys[alice.userId][alice.deviceId]);
      };
      const first = [await claimOne(), await claimOne()].map(([[id]]) => id);
      assert.deepEqual(first.sort(), Object.keys(firstBatch).sort(), 'the first upload is handed out first');
      // Concurrent claims still never share a key.
      const rest = await Promise.all([claimOne(), claimOne(), claimOne(), claimOne()]);
      const ids = rest.map(([[id]]) => id);
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(ids.sort(), Object.keys(secondBatch).sort());
      assert.deepEqual(await k.e2ee.service.oneTimeKeyCounts(alice.userId, alice.deviceId), { signed_curve25519: 0 });

      // Out of one-time keys: the fallback key, again and again, now marked used.
      const [[fbId, fb]] = await claimOne();
      assert.equal(fbId, 'signed_curve25519:FB1');
      assert.equal((fb as { fallback?: boolean }).fallback, true);
      assert.equal((await claimOne())[0][0], 'signed_curve25519:FB1');
      assert.deepEqual(await k.e2ee.service.unusedFallbackKeyTypes(alice.userId, alice.deviceId), []);

      // A new fallback key is unused again; unknown devices are simply missing.
      await keys.upload(alice.userId, alice.deviceId, { fallback_keys: alice.fallbackKey('FB2') });
      assert.deepEqual(await k.e2ee.service.unusedFallbackKeyTypes(alice.userId, alice.deviceId), ['signed_curve25519']);
      const none = await keys.claim({ [bob.userId]: { NOPE: 'signed_curve25519' } });
      assert.deepEqual(none, { failures: {}, one_time_keys: {} });
    });
  });

  it('it should report users of unreachable servers as failures', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const q = await k.e2ee.service.keys.query(alice.userId, { '@carol:remote.example': [] });
      assert.deepEqual(q.failures, { 'remote.example': {} });
      const c = await k.e2ee.service.keys.claim({ '@carol:remote.example': { DEV: 'signed_curve25519' } });
      assert.deepEqual(c.failures, { 'remote.example': {} });
    });
  });

  it('it should forget every key of a deleted device', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, {
        device_keys: alice.deviceKeys(),
        one_time_keys: alice.oneTimeKeys(2),
        fallback_keys: alice.fallbackKey(),
      });
      await k.accounts.devices.deleteDevices(alice.userId, [alice.deviceId]);
      const q = await k.e2ee.service.keys.query(bob.userId, { [alice.userId]: [] });
      assert.deepEqual(q.device_keys[alice.userId], {});
      const c = await k.e2ee.service.keys.claim({ [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } });
      assert.deepEqual(c.one_time_keys, {});
    });
  });
});
