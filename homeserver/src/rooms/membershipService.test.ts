import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatrixError } from '../http/errors.js';
import { openTestRooms, requester, user, type TestRooms } from './testing.js';

/** A MatrixError with this status and errcode whose message names an auth rule when `rule` is given. */
const refused = (status: number, errcode: string, rule?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof MatrixError, String(err));
  assert.equal(err.status, status, err.message);
  assert.equal(err.errcode, errcode, err.message);
  if (rule) assert.match(err.message, rule);
  return true;
};
const membershipOf = async (t: TestRooms, roomId: string, name: string) => (await t.rooms.reader.membership(roomId, user(name)))?.membership;

test('it should walk a user through invite, join, leave, kick, ban and unban, refusing what the auth rules forbid', async () => {
  const t = await openTestRooms();
  try {
    const m = t.rooms.membership;
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'private_chat' });

    // Invite-only: bob cannot walk in, and cannot send without being joined.
    await assert.rejects(m.join(user('bob'), roomId), refused(403, 'M_FORBIDDEN', /auth rule 5\.\d/));
    await assert.rejects(
      t.rooms.events.send(requester('bob'), roomId, 'm.room.message', 't1', { body: 'hi' }),
      refused(403, 'M_FORBIDDEN', /not joined|not a member/),
    );
    await m.invite(user('alice'), roomId, user('bob'));
    assert.equal(await membershipOf(t, roomId, 'bob'), 'invite');
    await m.join(user('bob'), roomId);
    assert.equal(await membershipOf(t, roomId, 'bob'), 'join');

    // A member with power 0 may not kick, ban or change power levels.
    await m.invite(user('bob'), roomId, user('carol'));
    await m.join(user('carol'), roomId);
    await assert.rejects(m.kick(user('bob'), roomId, user('carol')), refused(403, 'M_FORBIDDEN', /auth rule/));
    await assert.rejects(m.ban(user('bob'), roomId, user('carol')), refused(403, 'M_FORBIDDEN', /auth rule/));
    await assert.rejects(
      t.rooms.events.setState(requester('bob'), roomId, 'm.room.power_levels', '', { users: { [user('bob')]: 100 } }),
      refused(403, 'M_FORBIDDEN', /power level.*auth rule 8/),
    );

    // The creator kicks and bans; a banned user cannot rejoin or be invited until unbanned.
    await m.kick(user('alice'), roomId, user('carol'), 'too loud');
    const kick = await t.rooms.reader.currentStateEvent(roomId, 'm.room.member', user('carol'));
    assert.deepEqual([kick?.pdu.content.membership, kick?.pdu.content.reason, kick?.pdu.sender], ['leave', 'too loud', user('alice')]);
    await m.ban(user('alice'), roomId, user('bob'));
    assert.equal(await membershipOf(t, roomId, 'bob'), 'ban');
    await assert.rejects(m.join(user('bob'), roomId), refused(403, 'M_FORBIDDEN', /auth rule/));
    await assert.rejects(m.invite(user('alice'), roomId, user('bob')), refused(403, 'M_FORBIDDEN', /auth rule/));
    await assert.rejects(m.unban(user('alice'), roomId, user('carol')), refused(403, 'M_FORBIDDEN', /not banned/));
    await m.unban(user('alice'), roomId, user('bob'));
    assert.equal(await membershipOf(t, roomId, 'bob'), 'leave');
    await m.invite(user('alice'), roomId, user('bob'));
    await m.join(user('bob'), roomId);
    await m.leave(user('bob'), roomId);
    assert.equal(await membershipOf(t, roomId, 'bob'), 'leave');
    // Leaving again changes nothing: the identical leave already stands.
    const again = await m.leave(user('bob'), roomId);
    assert.equal(again, (await t.rooms.reader.membership(roomId, user('bob')))?.eventId, 'an identical leave is not sent twice');
  } finally {
    await t.dispose();
  }
});

test('it should join public rooms by ID and by local alias, and answer 404 for rooms this server does not know', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat', room_alias_name: 'square' });
    assert.deepEqual(await t.rooms.membership.join(user('bob'), '#square:test.parley'), { roomId });
    assert.equal(await membershipOf(t, roomId, 'bob'), 'join');
    await assert.rejects(t.rooms.membership.join(user('bob'), '!unknown:elsewhere.org'), refused(404, 'M_NOT_FOUND'));
    await assert.rejects(t.rooms.membership.join(user('bob'), '#nope:test.parley'), refused(404, 'M_NOT_FOUND'));
    await assert.rejects(t.rooms.membership.join(user('bob'), 'not-a-room'), refused(400, 'M_INVALID_PARAM'));
  } finally {
    await t.dispose();
  }
});

test('it should only forget rooms the user has left, and mark them forgotten', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    await t.rooms.membership.join(user('bob'), roomId);
    await assert.rejects(t.rooms.membership.forget(user('bob'), roomId), refused(400, 'M_UNKNOWN'));
    await t.rooms.membership.leave(user('bob'), roomId);
    await t.rooms.membership.forget(user('bob'), roomId);
    assert.equal((await t.rooms.reader.membership(roomId, user('bob')))?.forgotten, true);
    const mine = await t.rooms.reader.roomsOfUser(user('bob'));
    assert.equal(mine[0]?.member.forgotten, true, 'both membership indexes agree');
    // Rejoining starts a fresh membership.
    await t.rooms.membership.join(user('bob'), roomId);
    assert.equal((await t.rooms.reader.membership(roomId, user('bob')))?.forgotten, undefined);
  } finally {
    await t.dispose();
  }
});

test('it should carry profiles in member events, resend them on profile change, and leave every room on deactivation', async () => {
  const t = await openTestRooms();
  try {
    t.profiles.map.set(user('bob'), { displayname: 'Bob', avatar_url: 'mxc://test.parley/a' });
    const r1 = (await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' })).room_id;
    const r2 = (await t.rooms.creator.createRoom(requester('alice'), { preset: 'private_chat', invite: [user('bob')] })).room_id;
    await t.rooms.membership.join(user('bob'), r1);
    const join = await t.rooms.reader.currentStateEvent(r1, 'm.room.member', user('bob'));
    assert.deepEqual(join?.pdu.content, { membership: 'join', displayname: 'Bob', avatar_url: 'mxc://test.parley/a' });
    const invite = await t.rooms.reader.currentStateEvent(r2, 'm.room.member', user('bob'));
    assert.equal(invite?.pdu.content.displayname, 'Bob', 'invites carry the invitee profile');

    t.profiles.map.set(user('bob'), { displayname: 'Robert' });
    await t.rooms.membership.profileChanged(user('bob'));
    const updated = await t.rooms.reader.currentStateEvent(r1, 'm.room.member', user('bob'));
    assert.deepEqual(updated?.pdu.content, { membership: 'join', displayname: 'Robert' });
    assert.equal(updated?.replaces?.eventId, join?.eventId);
    assert.equal((await t.rooms.reader.membership(r2, user('bob')))?.membership, 'invite', 'invites are not turned into joins');

    await t.rooms.membership.leaveAllRooms(user('bob'));
    assert.equal(await membershipOf(t, r1, 'bob'), 'leave');
    assert.equal(await membershipOf(t, r2, 'bob'), 'leave', 'pending invites are rejected');
  } finally {
    await t.dispose();
  }
});

test("it should list a user's rooms as their memberships change, though repeated reads share one answer", async () => {
  const t = await openTestRooms();
  try {
    const { room_id: a } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    const { room_id: b } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    const roomsOf = async () => (await t.rooms.reader.roomsOfUser(user('bob'))).map((r) => `${r.roomId}=${r.member.membership}`).sort();
    await t.rooms.membership.join(user('bob'), a);
    assert.deepEqual(await roomsOf(), [`${a}=join`]);
    const first = await t.rooms.reader.roomsOfUser(user('bob'));
    assert.equal(await t.rooms.reader.roomsOfUser(user('bob')), first, 'read again: the same answer');
    assert.throws(() => (first as Array<unknown>).pop(), TypeError, 'which nobody can change');

    await t.rooms.membership.join(user('bob'), b);
    assert.deepEqual(await roomsOf(), [`${a}=join`, `${b}=join`].sort());
    await t.rooms.membership.leave(user('bob'), a);
    assert.deepEqual(await roomsOf(), [`${a}=leave`, `${b}=join`].sort());
  } finally {
    await t.dispose();
  }
});
