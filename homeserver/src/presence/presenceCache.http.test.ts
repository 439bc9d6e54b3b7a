// An incremental /sync skips the presence read when nothing changed since its token
// (storage/presenceRepo.ts keeps the stream's newest position). Warm first, then change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { C, withKit, type Kit, type KitUser } from '../directory/testKit.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function sync(k: Kit, u: KitUser, since?: string): Promise<Json> {
  const res = await k.call('GET', `${C}/sync?set_presence=offline&timeout=0${since ? `&since=${since}` : ''}`, { token: u.token });
  assert.equal(res.status, 200);
  return res.json;
}

test('it should deliver a room-mate’s presence change made after warm syncs', async () => {
  await withKit(async (k) => {
    const alice = k.user('alice');
    const bob = k.user('bob');
    const roomId = await k.createRoom(alice, { preset: 'public_chat' });
    await k.rooms.membership.join(bob.userId, roomId);
    let since = (await sync(k, bob)).next_batch;
    for (let i = 0; i < 2; i++) {
      const quiet = await sync(k, bob, since);
      assert.deepEqual(quiet.presence.events, []);
      since = quiet.next_batch;
    }
    for (const [state, msg] of [['online', 'tea'], ['unavailable', 'away']]) {
      const put = await k.call('PUT', `${C}/presence/${encodeURIComponent(alice.userId)}/status`, { token: alice.token, body: { presence: state, status_msg: msg } });
      assert.equal(put.status, 200);
      const s = await sync(k, bob, since);
      const mine = s.presence.events.filter((e: Json) => e.sender === alice.userId);
      assert.deepEqual(mine.map((e: Json) => [e.content.presence, e.content.status_msg]), [[state, msg]]);
      since = s.next_batch;
    }
  });
});
