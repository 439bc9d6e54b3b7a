// A quiet /sync answers one-time key counts, fallback keys, to-device and device-list
// changes from memory (storage/e2eeReadCache.ts). These tests warm that memory with
// syncs first, then change things through the API: the next sync must show the change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withE2ee, type FakeDevice, type Json, type Kit } from './testKit.js';

async function sync(k: Kit, d: FakeDevice, since?: string, timeout = 0): Promise<Json> {
  const qs = new URLSearchParams({ timeout: String(timeout), ...(since ? { since } : {}) });
  const res = await k.call('GET', `${C}/sync?${qs}`, { token: d.token });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

/** An initial sync and two quiet incremental ones: every cached answer is filled. */
async function warm(k: Kit, d: FakeDevice): Promise<string> {
  let since = (await sync(k, d)).next_batch;
  for (let i = 0; i < 2; i++) since = (await sync(k, d, since)).next_batch;
  return since;
}

async function upload(k: Kit, d: FakeDevice, body: Json): Promise<void> {
  const res = await k.call('POST', `${C}/keys/upload`, { token: d.token, body });
  assert.equal(res.status, 200, JSON.stringify(res.json));
}

async function claim(k: Kit, by: FakeDevice, of: FakeDevice): Promise<Json> {
  const res = await k.call('POST', `${C}/keys/claim`, {
    token: by.token,
    body: { one_time_keys: { [of.userId]: { [of.deviceId]: 'signed_curve25519' } } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.one_time_keys[of.userId]?.[of.deviceId] ?? {};
}

describe('/sync after its answers were remembered', () => {
  it('it should show one-time keys uploaded and claimed after a warm sync in the next sync', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      let since = await warm(k, alice);

      await upload(k, alice, { device_keys: alice.deviceKeys(), one_time_keys: alice.oneTimeKeys(3) });
      let s = await sync(k, alice, since);
      assert.deepEqual(s.device_one_time_keys_count, { signed_curve25519: 3 });
      since = (await sync(k, alice, s.next_batch)).next_batch;

      assert.equal(Object.keys(await claim(k, bob, alice)).length, 1);
      s = await sync(k, alice, since);
      assert.deepEqual(s.device_one_time_keys_count, { signed_curve25519: 2 });
    });
  });

  it('it should list a fallback key uploaded after a warm sync, and drop it once claimed', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      let since = await warm(k, alice);
      assert.deepEqual((await sync(k, alice, since)).device_unused_fallback_key_types, []);

      await upload(k, alice, { device_keys: alice.deviceKeys(), fallback_keys: alice.fallbackKey() });
      let s = await sync(k, alice, since);
      assert.deepEqual(s.device_unused_fallback_key_types, ['signed_curve25519']);
      since = (await sync(k, alice, s.next_batch)).next_batch;

      // No one-time key left: the claim hands out the fallback key, which is then used.
      const got = await claim(k, bob, alice);
      assert.equal(Object.keys(got).length, 1);
      s = await sync(k, alice, since);
      assert.deepEqual(s.device_unused_fallback_key_types, []);
    });
  });

  it('it should keep answering the key counts and fallback key types once they are remembered', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      await upload(k, alice, { device_keys: alice.deviceKeys(), one_time_keys: alice.oneTimeKeys(4), fallback_keys: alice.fallbackKey() });
      let since = await warm(k, alice);
      for (let i = 0; i < 2; i++) {
        const s = await sync(k, alice, since);
        assert.deepEqual(s.device_one_time_keys_count, { signed_curve25519: 4 });
        assert.deepEqual(s.device_unused_fallback_key_types, ['signed_curve25519']);
        assert.deepEqual(s.to_device.events, []);
        since = s.next_batch;
      }
    });
  });

  it('it should deliver to-device messages sent after warm syncs, to a quick sync and to a held one', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      let since = await warm(k, bob);
      const send = (txn: string, n: number) =>
        k.call('PUT', `${C}/sendToDevice/m.test/${txn}`, { token: alice.token, body: { messages: { [bob.userId]: { [bob.deviceId]: { n } } } } });

      assert.equal((await send('t1', 1)).status, 200);
      let s = await sync(k, bob, since);
      assert.deepEqual(s.to_device.events.map((e: Json) => e.content.n), [1]);
      // Acknowledged by the next sync, and not delivered again.
      s = await sync(k, bob, s.next_batch);
      assert.deepEqual(s.to_device.events, []);
      since = s.next_batch;

      const held = sync(k, bob, since, 10_000);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await send('t2', 2)).status, 200);
      s = await held;
      assert.deepEqual(s.to_device.events.map((e: Json) => e.content.n), [2]);
    });
  });

  it('it should deliver a to-device backlog cut short over several syncs after the inbox was seen empty', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const since = await warm(k, bob);
      const messages: Json = { [bob.userId]: { [bob.deviceId]: {} } };
      for (let i = 0; i < 150; i++) {
        messages[bob.userId][bob.deviceId] = { n: i };
        assert.equal((await k.call('PUT', `${C}/sendToDevice/m.test/b${i}`, { token: alice.token, body: { messages } })).status, 200);
      }
      const seen: number[] = [];
      let token = since;
      for (let i = 0; i < 5; i++) {
        const s = await sync(k, bob, token);
        seen.push(...s.to_device.events.map((e: Json) => e.content.n as number));
        token = s.next_batch;
      }
      assert.deepEqual(seen, Array.from({ length: 150 }, (_, i) => i));
    });
  });

  it('it should report a room-mate’s new device after warm syncs', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      await k.sharedRoom(alice, bob);
      const since = await warm(k, alice);
      const bob2 = await k.login(bob.userId, 'BOB2');
      await upload(k, bob2, { device_keys: bob2.deviceKeys() });
      const s = await sync(k, alice, since);
      assert.ok(s.device_lists.changed.includes(bob.userId), JSON.stringify(s.device_lists));
    });
  });
});
