// A room joined since the sync token comes with all of its room account data, like in an initial
// sync: what was set while the user was only invited (e.g. the m.server_notice tag) is not lost.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { withSyncServer } from './testHarness.js';

it('it should send the room account data set before the join with a newly joined room', async () => {
  await withSyncServer(async (h) => {
    const alice = h.user('alice');
    const bob = h.user('bob');
    const roomId = await h.createRoom(alice, { preset: 'private_chat', invite: [bob.userId] });
    const first = await h.syncRaw(bob);
    assert.ok(first.json.rooms.invite[roomId], 'Bob is invited');
    // Set while invited (as the server notices room's tag is), then a sync moves the token past it.
    await h.sync.accountData.set(bob.userId, roomId, 'm.tag', { tags: { 'm.server_notice': {} } });
    const second = await h.syncRaw(bob, { since: first.json.next_batch });
    assert.equal(second.json.rooms?.join?.[roomId], undefined, 'not joined yet');

    await h.rooms.membership.join(bob.userId, roomId);
    const third = await h.syncRaw(bob, { since: second.json.next_batch });
    const room = third.json.rooms.join[roomId];
    assert.ok(room, 'the newly joined room is listed');
    assert.deepEqual(room.account_data.events, [{ type: 'm.tag', content: { tags: { 'm.server_notice': {} } } }]);

    // Afterwards only changes are sent again.
    await h.send(alice, roomId, 'hello');
    const fourth = await h.syncRaw(bob, { since: third.json.next_batch });
    assert.deepEqual(fourth.json.rooms.join[roomId].account_data.events, []);
  });
});
