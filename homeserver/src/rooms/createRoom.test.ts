import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '../http/errors.js';
import { openTestRooms, requester, user, type TestRooms } from './testing.js';

const state = async (t: TestRooms, roomId: string, type: string, key = '') =>
  (await t.rooms.reader.currentStateEvent(roomId, type, key))?.pdu;

const rejectsWith = (status: number, errcode: string) => (err: unknown) =>
  err instanceof MatrixError && err.status === status && err.errcode === errcode;

for (const version of ['10', '11', '12']) {
  for (const preset of ['private_chat', 'trusted_private_chat', 'public_chat'] as const) {
    test(`it should create a v${version} ${preset} room with the spec's join rule, history visibility, guest access and power levels`, async () => {
      const t = await openTestRooms();
      try {
        const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), {
          preset,
          room_version: version,
          invite: [user('bob')],
        });
        const rules = preset === 'public_chat' ? 'public' : 'invite';
        assert.equal((await state(t, roomId, 'm.room.join_rules'))?.content.join_rule, rules);
        assert.equal((await state(t, roomId, 'm.room.history_visibility'))?.content.history_visibility, 'shared');
        assert.equal((await state(t, roomId, 'm.room.guest_access'))?.content.guest_access, preset === 'public_chat' ? 'forbidden' : 'can_join');

        const create = await state(t, roomId, 'm.room.create');
        assert.equal(create?.content.room_version, version);
        assert.equal(create?.sender, user('alice'));
        const pl = (await state(t, roomId, 'm.room.power_levels'))?.content as { users: Record<string, number>; [k: string]: unknown };
        if (version === '12') {
          // v12: creators are implicit and infinitely powerful; trusted invitees become additional creators.
          assert.match(roomId, /^![A-Za-z0-9_-]{43}$/);
          assert.equal(create?.room_id, undefined, 'a v12 create event has no room_id');
          assert.deepEqual(pl.users, {});
          assert.deepEqual(create?.content.additional_creators, preset === 'trusted_private_chat' ? [user('bob')] : undefined);
          assert.ok(((pl.events as Record<string, number>)['m.room.tombstone'] ?? 0) > (pl.state_default as number));
        } else {
          assert.match(roomId, /^![A-Za-z]+:test\.parley$/);
          assert.equal(pl.users[user('alice')], 100);
          assert.equal(pl.users[user('bob')], preset === 'trusted_private_chat' ? 100 : undefined);
          assert.equal(create?.content.creator, version === '10' ? user('alice') : undefined);
        }
        assert.equal((await t.rooms.reader.membership(roomId, user('alice')))?.membership, 'join');
        assert.equal((await t.rooms.reader.membership(roomId, user('bob')))?.membership, 'invite');
      } finally {
        await t.dispose();
      }
    });
  }
}

test('it should write the creation events in the spec order and apply name, topic, initial_state, alias and overrides', async () => {
  const t = await openTestRooms();
  try {
    t.profiles.map.set(user('alice'), { displayname: 'Alice' });
    const res = await t.rooms.creator.createRoom(requester('alice'), {
      visibility: 'public',
      room_alias_name: 'tea',
      name: 'Tea',
      topic: 'Cups',
      creation_content: { 'm.federate': false, creator: '@mallory:x', room_version: '1' },
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'joined' } },
        { type: 'm.room.name', content: { name: 'overridden' } },
        { type: 'org.example.custom', state_key: 'k', content: { v: 1 } },
      ],
      power_level_content_override: { events_default: 10 },
      invite: [user('bob')],
      is_direct: true,
    });
    assert.equal(res.room_alias, '#tea:test.parley');
    const timeline = await t.rooms.reader.timeline(res.room_id, { dir: 'f', limit: 100 });
    assert.deepEqual(
      timeline.map((e) => `${e.pdu.type}|${e.pdu.state_key}`),
      [
        'm.room.create|',
        `m.room.member|${user('alice')}`,
        'm.room.power_levels|',
        'm.room.canonical_alias|',
        'm.room.join_rules|',
        'm.room.guest_access|',
        'm.room.history_visibility|',
        'm.room.name|',
        'org.example.custom|k',
        'm.room.name|',
        'm.room.topic|',
        `m.room.member|${user('bob')}`,
      ],
    );
    const create = timeline[0].pdu.content;
    assert.equal(create['m.federate'], false);
    assert.equal(create.room_version, '12', 'the server owns room_version');
    assert.equal(create.creator, undefined, 'the server owns creator (absent from v11 on)');
    assert.equal(timeline[1].pdu.content.displayname, 'Alice');
    assert.equal((await state(t, res.room_id, 'm.room.name'))?.content.name, 'Tea');
    assert.equal((await state(t, res.room_id, 'm.room.history_visibility'))?.content.history_visibility, 'joined');
    assert.equal((await state(t, res.room_id, 'm.room.power_levels'))?.content.events_default, 10);
    assert.equal((await state(t, res.room_id, 'm.room.topic'))?.content.topic, 'Cups');
    assert.equal((await state(t, res.room_id, 'm.room.member', user('bob')))?.content.is_direct, true);
    assert.equal((await t.rooms.aliases.resolve('#tea:test.parley')).room_id, res.room_id);
    assert.equal(await t.rooms.storage.published.isPublished(res.room_id), true);
    // Every event carries this server's signature and a content hash.
    for (const e of timeline) {
      assert.ok(e.pdu.signatures['test.parley']?.['ed25519:test']);
      assert.equal(typeof e.pdu.hashes.sha256, 'string');
    }
  } finally {
    await t.dispose();
  }
});

test('it should refuse bad createRoom requests before creating anything', async () => {
  const t = await openTestRooms();
  try {
    const alice = requester('alice');
    await assert.rejects(t.rooms.creator.createRoom(alice, { room_version: '999' }), rejectsWith(400, 'M_UNSUPPORTED_ROOM_VERSION'));
    await assert.rejects(t.rooms.creator.createRoom(alice, { invite: ['not-a-user'] }), rejectsWith(400, 'M_INVALID_PARAM'));
    await assert.rejects(t.rooms.creator.createRoom(alice, { room_alias_name: 'has:colon' }), rejectsWith(400, 'M_INVALID_PARAM'));
    await assert.rejects(t.rooms.creator.createRoom(alice, { invite_3pid: [{ medium: 'email' }] }), rejectsWith(400, 'M_UNRECOGNIZED'));
    // An override that leaves the creator unable to send the later events is invalid room state (v11: creator not privileged).
    await assert.rejects(
      t.rooms.creator.createRoom(alice, { room_version: '11', name: 'x', power_level_content_override: { users: {}, state_default: 50 } }),
      rejectsWith(400, 'M_INVALID_ROOM_STATE'),
    );
    await t.rooms.creator.createRoom(alice, { room_alias_name: 'taken' });
    await assert.rejects(t.rooms.creator.createRoom(requester('bob'), { room_alias_name: 'taken' }), rejectsWith(400, 'M_ROOM_IN_USE'));
    assert.equal((await t.rooms.reader.roomsOfUser(user('alice'))).length, 1, 'only the one valid room exists');
    assert.equal((await t.rooms.reader.roomsOfUser(user('bob'))).length, 0);
  } finally {
    await t.dispose();
  }
});

test('it should let only one of two concurrent creations claim the same alias', async () => {
  const t = await openTestRooms();
  try {
    const results = await Promise.allSettled([
      t.rooms.creator.createRoom(requester('alice'), { room_alias_name: 'race' }),
      t.rooms.creator.createRoom(requester('bob'), { room_alias_name: 'race' }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  } finally {
    await t.dispose();
  }
});

test('it should give identical createRoom requests made at the same moment rooms of their own', async () => {
  const t = await openTestRooms();
  try {
    const alice = requester('alice');
    const made = await Promise.all(Array.from({ length: 20 }, () => t.rooms.creator.createRoom(alice, { room_version: '12' })));
    assert.equal(new Set(made.map((r) => r.room_id)).size, 20);
  } finally {
    await t.dispose();
  }
});
