// The ignore list is read by every sync build, with the room list: a device's first sync after
// it connects loads it, so the first message it is then woken for does not wait on that read
// (with 10,000 members, 10,000 reads at once). Ignored users' messages stay hidden.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hidingIgnored, IGNORED_USER_LIST, IgnoredUsers } from '../messaging/ignoredUsers.js';
import { withSyncServer, type Harness, type TestUser } from './testHarness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function sync(h: Harness, u: TestUser, since?: string): Promise<Json> {
  const res = await h.syncRaw(u, { timeout: 0, ...(since ? { since } : {}) });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

test('it should read the ignore list in a sync with nothing new, not in the sync that later serves a message', async () => {
  let reads = 0;
  const lists = new Map<string, Record<string, unknown>>();
  const ignored = new IgnoredUsers({
    get: async (userId, roomId, type) => {
      if (roomId === '' && type === IGNORED_USER_LIST) reads++;
      const content = lists.get(userId);
      return content ? { content } : undefined;
    },
  });
  await withSyncServer(
    async (h) => {
      const alice = h.user('alice');
      const bob = h.user('bob');
      const carol = h.user('carol');
      const roomId = await h.createRoom(alice, { preset: 'public_chat' });
      await h.rooms.membership.join(bob.userId, roomId);
      await h.rooms.membership.join(carol.userId, roomId);
      lists.set(bob.userId, { ignored_users: { [carol.userId]: {} } });
      const first = await sync(h, bob);

      // As after a restart: nothing known of bob's list.
      ignored.forget(bob.userId);
      reads = 0;
      const quiet = await sync(h, bob, first.next_batch);
      assert.deepEqual(quiet.rooms.join, {}, 'nothing new for bob');
      assert.equal(reads, 1, 'the empty sync read the ignore list');

      await h.send(carol, roomId, 'from an ignored user');
      await h.send(alice, roomId, 'hello bob');
      const woken = await sync(h, bob, quiet.next_batch);
      const bodies = woken.rooms.join[roomId].timeline.events.map((e: Json) => e.content.body);
      assert.deepEqual(bodies, ['hello bob']);
      assert.equal(reads, 1, 'serving the messages read nothing more');
    },
    {
      deps: (rooms) => ({
        ignored,
        visible: hidingIgnored((userId, roomId, events) => rooms.visibility.filter(userId, roomId, events), ignored),
      }),
    },
  );
});
