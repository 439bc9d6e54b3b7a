// Reading room state and membership: /state, /members, /joined_members, /joined_rooms.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import {
  createRoom,
  enc,
  expectError,
  expectOk,
  invite,
  joinRoom,
  rawRequest,
  registerUser,
  type Json,
  type User,
} from './harness/http.js';

describe('room state and membership reads', () => {
  const ctx = useServer();
  let alice: User, bob: User, carol: User, dave: User, eve: User;
  let roomId = '';
  const base = () => `/_matrix/client/v3/rooms/${enc(roomId)}`;

  before(async () => {
    [alice, bob, carol, dave, eve] = await Promise.all(['alice', 'bob', 'carol', 'dave', 'eve'].map((n) => registerUser(ctx.server, `${n}${Date.now() % 100000}`)));
    expectOk(await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/profile/${enc(bob.userId)}/displayname`, { token: bob.accessToken, body: { displayname: 'Bobby' } }), 'bob displayname');
    roomId = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'State room', topic: 'All about state' });
    await joinRoom(ctx.server, bob, roomId); // join
    await invite(ctx.server, alice, roomId, carol.userId); // invite
    await joinRoom(ctx.server, dave, roomId);
    expectOk(await rawRequest(ctx.server, 'POST', `${base()}/leave`, { token: dave.accessToken, body: {} }), 'dave leaves'); // leave
  });

  it('should return the full current state with GET /state', async () => {
    const state = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/state`, { token: bob.accessToken }), 'GET /state');
    assert.ok(Array.isArray(state), '/state returns an array of state events');
    const find = (type: string, key = '') => state.find((e: Json) => e.type === type && e.state_key === key);
    assert.equal(find('m.room.create')?.sender, alice.userId);
    assert.equal(find('m.room.name')?.content.name, 'State room');
    assert.equal(find('m.room.topic')?.content.topic, 'All about state');
    assert.equal(find('m.room.join_rules')?.content.join_rule, 'public');
    const version = String(find('m.room.create')?.content.room_version ?? '1');
    const creatorPower = find('m.room.power_levels')?.content.users?.[alice.userId];
    if (/^([1-9]|1[01])$/.test(version)) assert.equal(creatorPower, 100, `room v${version}: the creator has power 100`);
    else assert.equal(creatorPower, undefined, `room v${version}: creators have infinite power and cannot be listed in power_levels.users`);
    assert.equal(find('m.room.member', alice.userId)?.content.membership, 'join');
    assert.equal(find('m.room.member', bob.userId)?.content.membership, 'join');
    assert.equal(find('m.room.member', carol.userId)?.content.membership, 'invite');
    assert.equal(find('m.room.member', dave.userId)?.content.membership, 'leave');
    for (const e of state) {
      assert.equal(typeof e.event_id, 'string');
      assert.equal(typeof e.state_key, 'string');
    }
    const keys = state.map((e: Json) => `${e.type}|${e.state_key}`);
    assert.equal(new Set(keys).size, keys.length, 'each (type, state_key) appears once in current state');
  });

  it('should return single state event content with GET /state/{type}/{key}', async () => {
    const name = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.name/`, { token: bob.accessToken }), 'GET name');
    assert.deepEqual(name, { name: 'State room' });
    const nameNoSlash = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.name`, { token: bob.accessToken }), 'GET name without trailing slash');
    assert.deepEqual(nameNoSlash, { name: 'State room' });
    const member = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.member/${enc(bob.userId)}`, { token: alice.accessToken }), 'GET member');
    assert.equal(member.membership, 'join');
    assert.equal(member.displayname, 'Bobby', 'member events carry the profile displayname');
    const withFormat = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.topic/?format=event`, { token: bob.accessToken }), 'GET topic format=event');
    assert.equal(withFormat.type, 'm.room.topic', 'format=event returns the whole event');
    assert.equal(withFormat.content?.topic, 'All about state');
    expectError(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.avatar/`, { token: bob.accessToken }), 404, 'M_NOT_FOUND', 'absent state event');
    expectError(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.name/`, { token: eve.accessToken }), 403, 'M_FORBIDDEN', 'non-member reads state');

    // Writing state shows up in reads.
    const put = expectOk(await rawRequest(ctx.server, 'PUT', `${base()}/state/m.room.topic/`, { token: alice.accessToken, body: { topic: 'New topic' } }), 'PUT topic');
    assert.equal(typeof put.event_id, 'string');
    const topic = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/state/m.room.topic/`, { token: bob.accessToken }), 'GET new topic');
    assert.deepEqual(topic, { topic: 'New topic' });
  });

  it('should list members with membership and not_membership filters', async () => {
    const members = async (qs: string): Promise<Record<string, string>> => {
      const res = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/members${qs}`, { token: alice.accessToken }), `GET /members${qs}`);
      assert.ok(Array.isArray(res.chunk), '/members returns {chunk: [...]}');
      const out: Record<string, string> = {};
      for (const e of res.chunk) {
        assert.equal(e.type, 'm.room.member');
        out[e.state_key] = e.content.membership;
      }
      return out;
    };
    assert.deepEqual(await members(''), {
      [alice.userId]: 'join', [bob.userId]: 'join', [carol.userId]: 'invite', [dave.userId]: 'leave',
    });
    assert.deepEqual(await members('?membership=join'), { [alice.userId]: 'join', [bob.userId]: 'join' });
    assert.deepEqual(await members('?membership=invite'), { [carol.userId]: 'invite' });
    assert.deepEqual(await members('?membership=leave'), { [dave.userId]: 'leave' });
    assert.deepEqual(await members('?not_membership=join'), { [carol.userId]: 'invite', [dave.userId]: 'leave' });
    assert.deepEqual(await members('?not_membership=leave'), { [alice.userId]: 'join', [bob.userId]: 'join', [carol.userId]: 'invite' });
    expectError(await rawRequest(ctx.server, 'GET', `${base()}/members`, { token: eve.accessToken }), 403, 'M_FORBIDDEN', 'non-member lists members');
  });

  it('should list joined members with profiles via /joined_members', async () => {
    const res = expectOk(await rawRequest(ctx.server, 'GET', `${base()}/joined_members`, { token: bob.accessToken }), 'GET /joined_members');
    assert.deepEqual(Object.keys(res.joined).sort(), [alice.userId, bob.userId].sort());
    assert.equal(res.joined[bob.userId].display_name, 'Bobby');
    expectError(await rawRequest(ctx.server, 'GET', `${base()}/joined_members`, { token: eve.accessToken }), 403, 'M_FORBIDDEN', 'non-member lists joined members');
  });

  it('should list only joined rooms in /joined_rooms', async () => {
    const rooms = async (u: User): Promise<string[]> =>
      expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/joined_rooms', { token: u.accessToken }), `joined_rooms ${u.userId}`).joined_rooms;
    assert.ok((await rooms(alice)).includes(roomId));
    assert.ok((await rooms(bob)).includes(roomId));
    assert.ok(!(await rooms(carol)).includes(roomId), 'an invited user has not joined');
    assert.ok(!(await rooms(dave)).includes(roomId), 'a user who left is not joined');
    assert.deepEqual(await rooms(eve), []);
    const second = await createRoom(ctx.server, bob, {});
    assert.deepEqual((await rooms(bob)).sort(), [roomId, second].sort());
  });
});
