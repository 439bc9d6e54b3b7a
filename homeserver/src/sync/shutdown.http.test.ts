// Shutdown: held long-polls are answered at once, new syncs are refused, and the module
// says when no sync is still reading (main.ts closes the database only after that).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withSyncServer } from './testHarness.js';

test('it should answer held syncs at shutdown, refuse new ones with 503 and then be idle', async () => {
  await withSyncServer(async (h) => {
    const alice = h.user('alice');
    await h.createRoom(alice);
    const since = (await h.syncRaw(alice)).json.next_batch as string;
    const held = Array.from({ length: 5 }, () => h.syncRaw(alice, { since, timeout: 60_000 }));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.sync.notifier.waiting, 5);

    const started = Date.now();
    h.sync.close();
    const answers = await Promise.all(held);
    assert.ok(Date.now() - started < 5000, 'released, not timed out');
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.json.next_batch, since, 'nothing happened: the client resumes from the same token');
    }
    const refused = await h.syncRaw(alice, { since, timeout: 0 });
    assert.equal(refused.status, 503);
    assert.equal(refused.json.errcode, 'M_UNKNOWN');
    await h.sync.idle();
  });
});
