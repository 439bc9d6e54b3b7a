// Send-to-device messages: sent over HTTP, delivered and acknowledged by /sync.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withE2ee, type FakeDevice, type Json, type Kit } from './testKit.js';

async function send(k: Kit, from: FakeDevice, txnId: string, messages: Json, type = 'm.test') {
  return k.call('PUT', `${C}/sendToDevice/${type}/${txnId}`, { token: from.token, body: { messages } });
}

async function sync(k: Kit, d: FakeDevice, since?: string, timeout = 0): Promise<Json> {
  const qs = new URLSearchParams({ timeout: String(timeout), ...(since ? { since } : {}) });
  const res = await k.call('GET', `${C}/sync?${qs}`, { token: d.token });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

describe('send-to-device', () => {
  it('it should deliver a message until the client syncs past it, then never again', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const start = (await sync(k, bob)).next_batch;
      assert.equal((await send(k, alice, 't1', { [bob.userId]: { [bob.deviceId]: { secret: 'ciphertext' } } })).status, 200);

      const first = await sync(k, bob, start);
      assert.deepEqual(first.to_device.events, [{ type: 'm.test', sender: alice.userId, content: { secret: 'ciphertext' } }]);
      // The response was lost: the same since token gets the message again.
      assert.deepEqual((await sync(k, bob, start)).to_device.events, first.to_device.events);
      // Syncing from the response's token acknowledges it.
      assert.deepEqual((await sync(k, bob, first.next_batch)).to_device.events, []);
      assert.deepEqual((await sync(k, bob)).to_device.events, [], 'deleted, not merely skipped');
    });
  });

  it('it should store a retried transaction once and keep transactions apart per device', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const alice2 = await k.login(alice.userId, 'ALICE2');
      const bob = await k.register('bob');
      const msg = { [bob.userId]: { [bob.deviceId]: { n: 1 } } };
      await send(k, alice, 'same', msg);
      await send(k, alice, 'same', msg);
      await send(k, alice2, 'same', msg);
      const events = (await sync(k, bob)).to_device.events;
      assert.equal(events.length, 2, 'once per sending device');
    });
  });

  it('it should send to every device with *, drop unknown local recipients and refuse bad user IDs', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const bob2 = await k.login(bob.userId, 'BOB2');
      const res = await send(k, alice, 'w', { [bob.userId]: { '*': { hi: true } }, '@nobody:e2ee.test': { X: { hi: true } } });
      assert.equal(res.status, 200);
      assert.equal((await sync(k, bob)).to_device.events.length, 1);
      assert.equal((await sync(k, bob2)).to_device.events.length, 1);
      const bad = await send(k, alice, 'x', { 'not-a-user': { X: {} } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_INVALID_PARAM');
      const malformed = await send(k, alice, 'y', { [bob.userId]: { [bob.deviceId]: 'not an object' } });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.errcode, 'M_BAD_JSON');
    });
  });

  it('it should deliver at most 100 per sync and lose none of the rest', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      for (let i = 0; i < 130; i++) await send(k, alice, `n${i}`, { [bob.userId]: { [bob.deviceId]: { i } } });
      const first = await sync(k, bob);
      assert.equal(first.to_device.events.length, 100);
      const second = await sync(k, bob, first.next_batch);
      const seen = [...first.to_device.events, ...second.to_device.events].map((e: Json) => e.content.i);
      assert.deepEqual(seen, Array.from({ length: 130 }, (_, i) => i), 'all, in order, each once');
      assert.notEqual(second.next_batch, first.next_batch, 'a cut-short response gets a token of its own');
      // The second response was lost: retrying from the first token gives the rest again.
      assert.deepEqual((await sync(k, bob, first.next_batch)).to_device.events, second.to_device.events);
      assert.deepEqual((await sync(k, bob, second.next_batch)).to_device.events, []);
    });
  });

  it('it should wake a waiting sync when a message arrives', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const since = (await sync(k, bob)).next_batch;
      const started = Date.now();
      const held = sync(k, bob, since, 20_000);
      await new Promise((r) => setTimeout(r, 100));
      await send(k, alice, 'wake', { [bob.userId]: { [bob.deviceId]: { wake: 1 } } });
      const s = await held;
      assert.ok(Date.now() - started < 10_000, 'returned long before the timeout');
      assert.deepEqual(s.to_device.events.map((e: Json) => e.content), [{ wake: 1 }]);
    });
  });

  it('it should hand messages for a remote user to federation again when the client retries after a failure', async () => {
    const edus: Array<{ destination: string; message_id: string; messages: unknown }> = [];
    let failNext = true;
    const outgoingToDevice = {
      async send(destination: string, edu: { message_id: string; messages: Record<string, unknown> }) {
        if (failNext) {
          failNext = false;
          throw new Error('federation queue unavailable');
        }
        edus.push({ destination, message_id: edu.message_id, messages: edu.messages });
      },
    };
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const messages = { '@carol:remote.test': { CAROLDEV: { room_key: 'ciphertext' } }, [bob.userId]: { [bob.deviceId]: { n: 1 } } };
      assert.equal((await send(k, alice, 'r1', messages)).status, 500, 'the failure reaches the client, which retries');
      assert.equal((await send(k, alice, 'r1', messages)).status, 200);
      assert.equal((await send(k, alice, 'r1', messages)).status, 200);
      assert.deepEqual(edus.map((e) => [e.destination, e.messages]), [['remote.test', { '@carol:remote.test': { CAROLDEV: { room_key: 'ciphertext' } } }]], 'sent once the retry succeeds, and only once');
      assert.ok(edus[0].message_id.length > 0 && [...edus[0].message_id].length <= 32, 'message_id within the EDU limit');
      assert.deepEqual((await sync(k, bob)).to_device.events.map((e: Json) => e.content), [{ n: 1 }], 'the local recipient gets it once');
    }, { outgoingToDevice });
  });

  it('it should drop the queue of a deleted device', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      await send(k, alice, 'q', { [bob.userId]: { [bob.deviceId]: { gone: true } } });
      await k.accounts.devices.deleteDevices(bob.userId, [bob.deviceId]);
      const again = await k.login(bob.userId, bob.deviceId);
      assert.deepEqual((await sync(k, again)).to_device.events, []);
    });
  });
});
