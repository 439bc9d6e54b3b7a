import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withKit, type Kit, type KitUser } from '../directory/testKit.js';
import { IDLE_AFTER_MS, SYNC_TIMEOUT_MS } from './presenceService.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function initialSync(k: Kit, u: KitUser, presence = 'offline'): Promise<string> {
  const res = await k.call('GET', `${C}/sync?set_presence=${presence}`, { token: u.token });
  assert.equal(res.status, 200);
  return res.json.next_batch;
}

async function presenceSince(k: Kit, u: KitUser, since: string): Promise<{ events: Json[]; next: string }> {
  const res = await k.call('GET', `${C}/sync?set_presence=offline&since=${since}&timeout=0`, { token: u.token });
  assert.equal(res.status, 200);
  return { events: res.json.presence.events, next: res.json.next_batch };
}

const statusPath = (userId: string) => `${C}/presence/${encodeURIComponent(userId)}/status`;

describe('presence', () => {
  it("should deliver a user's presence to a room-mate once, and never to a stranger", async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bob = k.user('bob');
      const carol = k.user('carol');
      const roomId = await k.createRoom(alice, { preset: 'public_chat' });
      await k.rooms.membership.join(bob.userId, roomId);
      const bobSince = await initialSync(k, bob);
      const carolSince = await initialSync(k, carol);

      const put = await k.call('PUT', statusPath(alice.userId), { token: alice.token, body: { presence: 'online', status_msg: 'Having tea' } });
      assert.equal(put.status, 200);

      const bobView = await presenceSince(k, bob, bobSince);
      const fromAlice = bobView.events.filter((e: Json) => e.sender === alice.userId);
      assert.equal(fromAlice.length, 1, 'Bob gets one presence event from Alice');
      assert.equal(fromAlice[0].type, 'm.presence');
      assert.equal(fromAlice[0].content.presence, 'online');
      assert.equal(fromAlice[0].content.status_msg, 'Having tea');
      assert.equal(fromAlice[0].content.currently_active, true);
      assert.equal(typeof fromAlice[0].content.last_active_ago, 'number');

      const again = await presenceSince(k, bob, bobView.next);
      assert.deepEqual(again.events, [], 'the same change is not delivered twice');

      const carolView = await presenceSince(k, carol, carolSince);
      assert.deepEqual(carolView.events.filter((e: Json) => e.sender === alice.userId), [], 'a stranger gets nothing');
      const carolGet = await k.call('GET', statusPath(alice.userId), { token: carol.token });
      assert.equal(carolGet.status, 403);
      assert.equal(carolGet.json.errcode, 'M_FORBIDDEN');

      const bobGet = await k.call('GET', statusPath(alice.userId), { token: bob.token });
      assert.equal(bobGet.status, 200);
      assert.equal(bobGet.json.presence, 'online');
      assert.equal(bobGet.json.status_msg, 'Having tea');
    });
  });

  it('should show a user in no room their own presence change once, and nobody else\'s', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const loner = k.user('loner');
      const since = await initialSync(k, loner);
      assert.equal((await k.call('PUT', statusPath(alice.userId), { token: alice.token, body: { presence: 'online' } })).status, 200);
      const put = await k.call('PUT', statusPath(loner.userId), { token: loner.token, body: { presence: 'unavailable', status_msg: 'Away' } });
      assert.equal(put.status, 200);

      const view = await presenceSince(k, loner, since);
      assert.deepEqual(view.events.map((e: Json) => [e.sender, e.content.presence, e.content.status_msg]), [[loner.userId, 'unavailable', 'Away']]);
      assert.deepEqual((await presenceSince(k, loner, view.next)).events, [], 'not delivered twice');
    });
  });

  it('should wake a room-mate long-polling /sync when presence changes', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bob = k.user('bob');
      const roomId = await k.createRoom(alice, { preset: 'public_chat' });
      await k.rooms.membership.join(bob.userId, roomId);
      const since = await initialSync(k, bob);
      const started = Date.now();
      const held = k.call('GET', `${C}/sync?set_presence=offline&since=${since}&timeout=20000`, { token: bob.token });
      await new Promise((r) => setTimeout(r, 100));
      await k.call('PUT', statusPath(alice.userId), { token: alice.token, body: { presence: 'unavailable' } });
      const res = await held;
      assert.ok(Date.now() - started < 10_000, 'the held sync returned early');
      const ev = res.json.presence.events.find((e: Json) => e.sender === alice.userId);
      assert.equal(ev?.content.presence, 'unavailable');
    });
  });

  it('should mark a syncing user online, then unavailable after 5 minutes idle, online again on activity, and offline once syncs stop', async () => {
    let now = 1_000_000;
    await withKit(
      async (k) => {
        const alice = k.user('alice');
        const roomId = await k.createRoom(alice, {});
        const first = await k.call('GET', `${C}/sync`, { token: alice.token });
        const own = first.json.presence.events.find((e: Json) => e.sender === alice.userId);
        assert.equal(own?.content.presence, 'online', 'a sync without set_presence marks the user online');

        // A long-poll keeps Alice "syncing" while her clock runs past the idle timeout.
        const held = k.call('GET', `${C}/sync?since=${first.json.next_batch}&timeout=20000`, { token: alice.token });
        // Move the clock only once the long-poll is held: a sync arriving later would itself count as activity.
        while (k.sync.notifier.waiting === 0) await new Promise((r) => setTimeout(r, 5));
        now += IDLE_AFTER_MS + 1000;
        await k.presence.service!.sweep();
        const woken = await held;
        assert.equal(woken.json.presence.events.find((e: Json) => e.sender === alice.userId)?.content.presence, 'unavailable');
        const idle = await k.call('GET', statusPath(alice.userId), { token: alice.token });
        assert.equal(idle.json.presence, 'unavailable');
        assert.ok(idle.json.last_active_ago >= IDLE_AFTER_MS, 'last_active_ago counts from the last activity');
        assert.equal(idle.json.currently_active, undefined, 'currently_active only accompanies online');

        await k.send(alice, roomId, 'back again');
        await k.settle();
        const back = await k.call('GET', statusPath(alice.userId), { token: alice.token });
        assert.equal(back.json.presence, 'online', 'sending a message is activity');
        assert.equal(back.json.currently_active, true);

        now += SYNC_TIMEOUT_MS + 1000;
        await k.presence.service!.sweep();
        const gone = await k.call('GET', statusPath(alice.userId), { token: alice.token });
        assert.equal(gone.json.presence, 'offline', 'no sync for a while means offline');
      },
      { now: () => now },
    );
  });

  it('should keep presence across a restart', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'parley-presence-'));
    try {
      await withKit(
        async (k) => {
          const alice = k.user('alice');
          await k.call('PUT', statusPath(alice.userId), { token: alice.token, body: { presence: 'unavailable', status_msg: 'Out to lunch' } });
        },
        { dir },
      );
      await withKit(
        async (k) => {
          const alice = k.user('alice');
          const res = await k.call('GET', statusPath(alice.userId), { token: alice.token });
          assert.equal(res.json.presence, 'unavailable');
          assert.equal(res.json.status_msg, 'Out to lunch');
        },
        { dir },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("should refuse to set another user's presence and reject an unknown state", async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bob = k.user('bob');
      const other = await k.call('PUT', statusPath(bob.userId), { token: alice.token, body: { presence: 'online' } });
      assert.equal(other.status, 403);
      assert.equal(other.json.errcode, 'M_FORBIDDEN');
      const bad = await k.call('PUT', statusPath(alice.userId), { token: alice.token, body: { presence: 'busy-ish' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_BAD_JSON');
      const get = await k.call('GET', statusPath(alice.userId), { token: alice.token });
      assert.equal(get.json.presence, 'offline', 'nothing was changed');
    });
  });

  it('should answer offline and put no presence in /sync when presence is turned off', async () => {
    await withKit(
      async (k) => {
        const alice = k.user('alice');
        const bob = k.user('bob');
        const roomId = await k.createRoom(alice, { preset: 'public_chat' });
        await k.rooms.membership.join(bob.userId, roomId);
        const since = await initialSync(k, bob, 'online');
        const put = await k.call('PUT', statusPath(alice.userId), { token: alice.token, body: { presence: 'online', status_msg: 'hi' } });
        assert.equal(put.status, 200);
        const get = await k.call('GET', statusPath(alice.userId), { token: bob.token });
        assert.deepEqual(get.json, { presence: 'offline' });
        const view = await presenceSince(k, bob, since);
        assert.deepEqual(view.events, []);
      },
      { presenceEnabled: false },
    );
  });
});
