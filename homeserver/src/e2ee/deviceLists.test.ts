// Device-list tracking as clients see it: /sync device_lists, /keys/changes, key counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, FakeCrossSigningKey, withE2ee, type FakeDevice, type Json, type Kit } from './testKit.js';

async function sync(k: Kit, d: FakeDevice, since?: string, timeout = 0): Promise<Json> {
  const qs = new URLSearchParams({ timeout: String(timeout), ...(since ? { since } : {}) });
  const res = await k.call('GET', `${C}/sync?${qs}`, { token: d.token });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

async function changes(k: Kit, d: FakeDevice, from: string, to?: string): Promise<Json> {
  const qs = new URLSearchParams({ from, ...(to ? { to } : {}) });
  const res = await k.call('GET', `${C}/keys/changes?${qs}`, { token: d.token });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

describe('device lists', () => {
  it('it should tell people who share a room when a user publishes keys, and nobody else', async () => {
    await withE2ee(async (k) => {
      const [alice, bob, carol] = [await k.register('alice'), await k.register('bob'), await k.register('carol')];
      await k.sharedRoom(alice, bob);
      const [bobSince, carolSince] = [(await sync(k, bob)).next_batch, (await sync(k, carol)).next_batch];
      await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() });

      assert.deepEqual((await sync(k, bob, bobSince)).device_lists, { changed: [alice.userId], left: [] });
      assert.deepEqual((await sync(k, carol, carolSince)).device_lists, { changed: [], left: [] });
      assert.deepEqual(await changes(k, bob, bobSince), { changed: [alice.userId], left: [] });
      assert.deepEqual(await changes(k, carol, carolSince), { changed: [], left: [] });
      assert.deepEqual((await sync(k, bob)).device_lists, { changed: [], left: [] }, 'initial syncs carry no device-list changes');
    });
  });

  it('it should report people who start sharing a room as changed and those who stop as left', async () => {
    await withE2ee(async (k) => {
      const [alice, bob, carol] = [await k.register('alice'), await k.register('bob'), await k.register('carol')];
      const room = await k.sharedRoom(alice, bob);
      const s0 = (await sync(k, bob)).next_batch;
      await k.rooms.membership.join(carol.userId, room);
      const s1 = await sync(k, bob, s0);
      assert.deepEqual(s1.device_lists, { changed: [carol.userId], left: [] });
      await k.rooms.membership.leave(carol.userId, room);
      const s2 = await sync(k, bob, s1.next_batch);
      assert.deepEqual(s2.device_lists, { changed: [], left: [carol.userId] });
      assert.deepEqual(await changes(k, bob, s1.next_batch, s2.next_batch), { changed: [], left: [carol.userId] });
    });
  });

  it('it should wake a room member’s waiting sync when keys, devices or cross-signing keys change', async () => {
    await withE2ee(async (k) => {
      const [alice, bob] = [await k.register('alice'), await k.register('bob')];
      await k.sharedRoom(alice, bob);
      let since = (await sync(k, bob)).next_batch;
      const waitFor = async (change: () => Promise<unknown>) => {
        const held = sync(k, bob, since, 20_000);
        await new Promise((r) => setTimeout(r, 100));
        const started = Date.now();
        await change();
        const s = await held;
        assert.ok(Date.now() - started < 10_000, 'woken, not timed out');
        since = s.next_batch;
        return s.device_lists;
      };
      assert.deepEqual(await waitFor(() => k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() })), {
        changed: [alice.userId],
        left: [],
      });
      const master = new FakeCrossSigningKey();
      assert.deepEqual(await waitFor(() => k.e2ee.service.crossSigning.upload(alice.userId, { master_key: master.object(alice.userId, 'master') })), {
        changed: [alice.userId],
        left: [],
      });
      assert.deepEqual(await waitFor(() => k.accounts.devices.deleteDevices(alice.userId, [alice.deviceId])), { changed: [alice.userId], left: [] });
    });
  });

  it('it should give a device its one-time key count and unused fallback key types in /sync', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const first = await sync(k, alice);
      assert.deepEqual(first.device_one_time_keys_count, { signed_curve25519: 0 });
      assert.deepEqual(first.device_unused_fallback_key_types, []);
      await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, {
        device_keys: alice.deviceKeys(),
        one_time_keys: alice.oneTimeKeys(5),
        fallback_keys: alice.fallbackKey(),
      });
      const s = await sync(k, alice, first.next_batch);
      assert.deepEqual(s.device_one_time_keys_count, { signed_curve25519: 5 });
      assert.deepEqual(s.device_unused_fallback_key_types, ['signed_curve25519']);
    });
  });

  it('it should refuse /keys/changes without a valid from token', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bad = await k.call('GET', `${C}/keys/changes?from=nonsense`, { token: alice.token });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
      const missing = await k.call('GET', `${C}/keys/changes`, { token: alice.token });
      assert.equal(missing.status, 400);
      assert.equal(missing.json.errcode, 'M_MISSING_PARAM');
    });
  });
});
