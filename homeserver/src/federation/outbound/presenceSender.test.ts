// Presence changes of local users go out as batched m.presence EDUs to the servers that share a room with them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Edu } from '@parley/federation/ports';
import { PresenceSender } from './presenceSender.js';

test('it should batch presence changes into one m.presence EDU per server with each user’s latest state', async () => {
  const queued: Array<{ destinations: string[]; edu: Edu }> = [];
  const sharing: Record<string, string[]> = { '@alice:us.test': ['hr.test', 'legal.test'], '@bob:us.test': ['hr.test'] };
  const sender = new PresenceSender({
    serversSharingRoomWith: async (u) => sharing[u] ?? [],
    queues: { enqueueEdu: async (d, edu) => void queued.push({ destinations: [...d], edu }) },
    onError: (e) => assert.fail(String(e)),
    now: () => 10_000,
    batchMs: 20,
  });
  sender.changed('@alice:us.test', { state: 'online', lastActiveTs: 9_000, lastSyncTs: 9_000, currentlyActive: true, stream: 1 });
  sender.changed('@bob:us.test', { state: 'unavailable', statusMsg: 'lunch', lastActiveTs: 4_000, lastSyncTs: 9_000, currentlyActive: false, stream: 2 });
  sender.changed('@alice:us.test', { state: 'online', statusMsg: 'in a meeting', lastActiveTs: 9_500, lastSyncTs: 9_500, currentlyActive: true, stream: 3 });
  sender.changed('@carol:us.test', { state: 'online', lastActiveTs: 9_000, lastSyncTs: 9_000, currentlyActive: true, stream: 4 });
  await new Promise((r) => setTimeout(r, 60));
  await sender.flush();
  const byServer = Object.fromEntries(queued.map((q) => [q.destinations.join(), q.edu]));
  assert.equal(queued.length, 2, 'one EDU per server, none for a user who shares no room');
  assert.deepEqual(byServer['hr.test'], {
    edu_type: 'm.presence',
    content: {
      push: [
        { user_id: '@alice:us.test', presence: 'online', last_active_ago: 500, currently_active: true, status_msg: 'in a meeting' },
        { user_id: '@bob:us.test', presence: 'unavailable', last_active_ago: 6_000, currently_active: false, status_msg: 'lunch' },
      ],
    },
  });
  assert.deepEqual(byServer['legal.test'], {
    edu_type: 'm.presence',
    content: { push: [{ user_id: '@alice:us.test', presence: 'online', last_active_ago: 500, currently_active: true, status_msg: 'in a meeting' }] },
  });
});
