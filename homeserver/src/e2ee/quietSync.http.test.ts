// A long-poll woken by a message in a window where nothing was announced for its user or
// rooms takes its E2EE fields from memory (SyncExtension.quietFields). Each answer here must
// equal the same sync built in full (timeout 0): what changes without an announcement — a
// claimed one-time key, a room-mate's join, a change in a room the filter leaves out — included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutAge } from '../testing/expect.js';
import { nextTxnId } from '../testing/rooms.js';
import { C, withE2ee, type FakeDevice, type Json, type Kit } from './testKit.js';

async function sync(k: Kit, d: FakeDevice, params: Record<string, string | number>): Promise<Json> {
  const q = new URLSearchParams(Object.entries(params).map(([key, v]): [string, string] => [key, String(v)]));
  const res = await k.call('GET', `${C}/sync?${q}`, { token: d.token });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

async function send(k: Kit, d: FakeDevice, roomId: string, body: string): Promise<void> {
  await k.rooms.events.send(d.requester, roomId, 'm.room.message', nextTxnId(), { msgtype: 'm.text', body });
}

async function uploadKeys(k: Kit, d: FakeDevice, oneTimeKeys = 0): Promise<void> {
  const res = await k.call('POST', `${C}/keys/upload`, { token: d.token, body: { device_keys: d.deviceKeys(), one_time_keys: d.oneTimeKeys(oneTimeKeys) } });
  assert.equal(res.status, 200, JSON.stringify(res.json));
}

/** `d`'s long-poll from `since`, woken by `act`, and the same sync built in full afterwards. */
async function wokenAndAlone(k: Kit, d: FakeDevice, since: string, act: () => Promise<void>, filter?: string): Promise<[Json, Json]> {
  const params = { since, ...(filter ? { filter } : {}) };
  const woken = sync(k, d, { ...params, timeout: 10_000 });
  // Let the long-poll be held before acting.
  await new Promise((resolve) => setTimeout(resolve, 100));
  await act();
  const answer = await woken;
  const alone = await sync(k, d, { ...params, timeout: 0 });
  return [answer, alone];
}

/** An initial sync and two incremental ones: the device's key counts and empty queues are then in memory. */
async function warm(k: Kit, d: FakeDevice, filter?: string): Promise<string> {
  const f: Record<string, string> = filter ? { filter } : {};
  let since = (await sync(k, d, { timeout: 0, ...f })).next_batch;
  for (let i = 0; i < 2; i++) since = (await sync(k, d, { since, timeout: 0, ...f })).next_batch;
  return since;
}


describe('woken /syncs with E2EE fields from memory', () => {
  it('it should show the one-time key count, also after another user claimed a key', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const roomId = await k.sharedRoom(alice, bob);
      await uploadKeys(k, bob, 3);
      const since = await warm(k, bob);
      const [first, firstAlone] = await wokenAndAlone(k, bob, since, () => send(k, alice, roomId, 'first'));
      assert.equal(first.device_one_time_keys_count.signed_curve25519, 3);
      assert.deepEqual(withoutAge(first), withoutAge(firstAlone));

      const [answer, alone] = await wokenAndAlone(k, bob, first.next_batch, async () => {
        const claim = await k.call('POST', `${C}/keys/claim`, { token: alice.token, body: { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } } });
        assert.equal(claim.status, 200);
        await send(k, alice, roomId, 'hello');
      });
      assert.equal(answer.device_one_time_keys_count.signed_curve25519, 2);
      assert.deepEqual(withoutAge(answer), withoutAge(alone));
    });
  });

  it('it should list a room-mate who joined in the window among the changed device lists', async () => {
    await withE2ee(async (k) => {
      const [alice, bob, carol] = [await k.register('alice'), await k.register('bob'), await k.register('carol')];
      const roomId = await k.sharedRoom(alice, bob);
      await uploadKeys(k, carol);
      const since = await warm(k, bob);

      const [answer, alone] = await wokenAndAlone(k, bob, since, async () => {
        await k.rooms.membership.join(carol.userId, roomId);
      });
      assert.ok(answer.device_lists.changed.includes(carol.userId), JSON.stringify(answer.device_lists));
      assert.deepEqual(withoutAge(answer), withoutAge(alone));
    });
  });

  it('it should list a device change in a room the filter leaves out when a message wakes the sync', async () => {
    await withE2ee(async (k) => {
      const [alice, bob, dave] = [await k.register('alice'), await k.register('bob'), await k.register('dave')];
      const busy = await k.sharedRoom(alice, bob);
      const hidden = await k.sharedRoom(dave, bob);
      const filter = JSON.stringify({ room: { not_rooms: [hidden] } });
      const since = await warm(k, bob, filter);

      const [answer, alone] = await wokenAndAlone(
        k,
        bob,
        since,
        async () => {
          await uploadKeys(k, dave);
          await send(k, alice, busy, 'in the room bob watches');
        },
        filter,
      );
      assert.deepEqual(answer.device_lists.changed, [dave.userId]);
      assert.deepEqual(withoutAge(answer), withoutAge(alone));
    });
  });
});
