// After a restart, clients sync from tokens older than the process: which rooms had
// membership changes since then is not in memory. The answer must still be exact (a
// room-mate who joined while the client was away is reported), and must not cost a walk of
// every member of the room for every one of those first syncs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomOutputs } from '../events/outputs.js';
import { createE2eeModule } from './e2eeModule.js';
import { withE2ee } from './testKit.js';

test('it should report a room-mate who joined before a restart to a client syncing from an older token, reading the room once for quiet ones', async () => {
  await withE2ee(async (k) => {
    const alice = await k.register('alice');
    const bob = await k.register('bob');
    const carol = await k.register('carol');
    const roomId = await k.sharedRoom(alice, bob);
    const before = k.stream.persisted;
    await k.rooms.membership.join(carol.userId, roomId);
    const afterJoin = k.stream.persisted;
    // Something else happens before the restart, so that token is older than the process.
    await k.stream.run(async () => undefined);

    // The module as a restarted process builds it: nothing in memory about earlier positions.
    let memberReads = 0;
    const reader = new Proxy(k.rooms.reader, {
      get(target, prop) {
        const v = Reflect.get(target, prop) as unknown;
        if (typeof v !== 'function') return v;
        if (prop === 'members') memberReads++;
        return (v as (...a: unknown[]) => unknown).bind(target);
      },
    });
    const restarted = createE2eeModule({
      db: k.db,
      serverName: 'e2ee.test',
      stream: k.stream,
      notifier: k.sync.notifier,
      rooms: reader,
      // No membership changes after the restart in this test.
      outputs: new RoomOutputs(),
      devices: k.accounts.devices,
      uia: k.accounts.uia,
    });
    const lists = restarted.service.deviceLists;
    const now = k.stream.persisted;
    // Clients reconnecting after the restart with tokens from after the join: nothing changed,
    // and the room's member list is read once for all of them, not walked by each.
    const quiet = await Promise.all(Array.from({ length: 10 }, () => lists.changesFor(bob.userId, afterJoin, now)));
    for (const r of quiet) assert.deepEqual(r, { changed: [], left: [] });
    assert.equal(memberReads, 1);
    // A token from before the join: the new room-mate is reported.
    assert.ok((await lists.changesFor(bob.userId, before, now)).changed.includes(carol.userId));
  });
});
