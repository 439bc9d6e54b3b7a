// Black-box checks of issue-5 features that a real client notices but that the other
// spec-tests files leave to in-process tests: room upgrades, knocking, reports,
// timestamp_to_event, space hierarchy, ignored users, tags and m.direct, read markers,
// lazy-loaded members, /members?at, /notifications, erasure on deactivation, mutual rooms
// through matrix-js-sdk, and the media repository's r0 paths that older bots use.
// Spec: client-server-api/_index.md and modules/{room_upgrades,reporting_content,
// spaces,ignore_users,tags,read_markers,push}.md; mutual_rooms.yaml (MSC2666 unstable form).
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { makeClient } from './harness/client.js';
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
  sendRaw,
  sendText,
  sync,
  syncTimeline,
  type User,
} from './harness/http.js';
import { uniq } from './harness/util.js';

const V1 = '/_matrix/client/v1';
const V3 = '/_matrix/client/v3';

describe('room features a client notices (issue 5)', () => {
  const ctx = useServer();
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    alice = await registerUser(ctx.server, uniq('alice'));
    bob = await registerUser(ctx.server, uniq('bob'));
    carol = await registerUser(ctx.server, uniq('carol'));
  });

  it('should upgrade a room: tombstone in the old room, predecessor in the new one, which members can join', async () => {
    const old = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Before' });
    await joinRoom(ctx.server, bob, old);
    expectError(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(old)}/upgrade`, { token: bob.accessToken, body: { new_version: '11' } }),
      403,
      'M_FORBIDDEN',
      'upgrade by a power-0 member',
    );
    expectError(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(old)}/upgrade`, { token: alice.accessToken, body: { new_version: '999' } }),
      400,
      'M_UNSUPPORTED_ROOM_VERSION',
      'upgrade to an unknown version',
    );
    const { replacement_room: next } = expectOk(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(old)}/upgrade`, { token: alice.accessToken, body: { new_version: '11' } }),
      'upgrade',
    );
    const tomb = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(old)}/state/m.room.tombstone/`, { token: bob.accessToken }), 'tombstone');
    assert.equal(tomb.replacement_room, next);
    const create = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(next)}/state/m.room.create/`, { token: alice.accessToken }), 'new create');
    assert.equal(create.room_version, '11');
    assert.equal(create.predecessor?.room_id, old);
    const name = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(next)}/state/m.room.name/`, { token: alice.accessToken }), 'copied name');
    assert.equal(name.name, 'Before');
    await joinRoom(ctx.server, bob, next);
  });

  it('should let a user knock on a knock room, see it in rooms.knock, and join once invited', async () => {
    const room = await createRoom(ctx.server, alice, {
      name: 'Knockable',
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    expectOk(await rawRequest(ctx.server, 'POST', `${V3}/knock/${enc(room)}`, { token: carol.accessToken, body: { reason: 'hi' } }), 'knock');
    const s = await sync(ctx.server, carol);
    const knock = s.rooms?.knock?.[room];
    assert.ok(knock, 'the knocked room is in rooms.knock');
    assert.ok(
      knock.knock_state.events.some((e: { type: string; content: { membership?: string } }) => e.type === 'm.room.member' && e.content.membership === 'knock'),
      'knock_state holds the knock membership',
    );
    await invite(ctx.server, alice, room, carol.userId);
    await joinRoom(ctx.server, carol, room);
    const open = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    expectError(await rawRequest(ctx.server, 'POST', `${V3}/knock/${enc(open)}`, { token: carol.accessToken, body: {} }), 403, 'M_FORBIDDEN', 'knock on a public room');
  });

  it('should accept reports of visible events and rooms and 404 unknown ones', async () => {
    const room = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    await joinRoom(ctx.server, bob, room);
    const ev = await sendText(ctx.server, alice, room, 'reportable');
    expectOk(await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(room)}/report/${enc(ev)}`, { token: bob.accessToken, body: { reason: 'spam' } }), 'report event');
    expectOk(await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(room)}/report`, { token: bob.accessToken, body: { reason: 'bad room' } }), 'report room');
    expectError(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(room)}/report/${enc('$missing')}`, { token: bob.accessToken, body: { reason: 'x' } }),
      404,
      'M_NOT_FOUND',
      'report of an unknown event',
    );
  });

  it('should find the event nearest a timestamp in both directions', async () => {
    const room = await createRoom(ctx.server, alice, {});
    const ev = await sendText(ctx.server, alice, room, 'at a time');
    const back = expectOk(
      await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(room)}/timestamp_to_event?ts=${Date.now() + 1000}&dir=b`, { token: alice.accessToken }),
      'timestamp_to_event dir=b',
    );
    assert.equal(back.event_id, ev);
    assert.equal(typeof back.origin_server_ts, 'number');
    expectError(
      await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(room)}/timestamp_to_event?ts=${Date.now() + 60_000}&dir=f`, { token: alice.accessToken }),
      404,
      'M_NOT_FOUND',
      'nothing after a future timestamp',
    );
    expectError(
      await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(room)}/timestamp_to_event?ts=1`, { token: alice.accessToken }),
      400,
      'M_MISSING_PARAM',
      'missing dir',
    );
  });

  it('should walk a public space and its child with /hierarchy, paging with next_batch', async () => {
    const child = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Child' });
    const space = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Space', creation_content: { type: 'm.space' } });
    expectOk(
      await rawRequest(ctx.server, 'PUT', `${V3}/rooms/${enc(space)}/state/m.space.child/${enc(child)}`, {
        token: alice.accessToken,
        body: { via: [ctx.server.serverName] },
      }),
      'add child',
    );
    const all = expectOk(await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(space)}/hierarchy`, { token: carol.accessToken }), 'hierarchy');
    assert.deepEqual(
      all.rooms.map((r: { room_id: string }) => r.room_id),
      [space, child],
    );
    assert.equal(all.rooms[0].room_type, 'm.space');
    assert.equal(all.rooms[0].children_state[0].state_key, child);
    const first = expectOk(await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(space)}/hierarchy?limit=1`, { token: carol.accessToken }), 'page 1');
    assert.equal(first.rooms.length, 1);
    const second = expectOk(
      await rawRequest(ctx.server, 'GET', `${V1}/rooms/${enc(space)}/hierarchy?limit=1&from=${enc(first.next_batch)}`, { token: carol.accessToken }),
      'page 2',
    );
    assert.deepEqual(
      second.rooms.map((r: { room_id: string }) => r.room_id),
      [child],
    );
  });

  it("should hide an ignored user's messages and invites, and keep tags, m.direct and the read marker", async () => {
    const dave = await registerUser(ctx.server, uniq('dave'));
    const erin = await registerUser(ctx.server, uniq('erin'));
    const room = await createRoom(ctx.server, dave, { preset: 'public_chat' });
    await joinRoom(ctx.server, erin, room);
    const start = await sync(ctx.server, dave);
    expectOk(
      await rawRequest(ctx.server, 'PUT', `${V3}/user/${enc(dave.userId)}/account_data/m.ignored_user_list`, {
        token: dave.accessToken,
        body: { ignored_users: { [erin.userId]: {} } },
      }),
      'ignore erin',
    );
    await sendText(ctx.server, erin, room, 'you cannot hear me');
    const mine = await sendText(ctx.server, dave, room, 'talking to myself');
    const invited = await createRoom(ctx.server, erin, { invite: [dave.userId] });
    const after = await sync(ctx.server, dave, { since: start.next_batch });
    const bodies = syncTimeline(after, room).map((e: { content: { body?: string } }) => e.content.body);
    assert.ok(bodies.includes('talking to myself'));
    assert.ok(!bodies.includes('you cannot hear me'), 'the ignored user’s message is not in /sync');
    assert.equal(after.rooms?.invite?.[invited], undefined, 'the ignored user’s invite is hidden');
    const messages = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(room)}/messages?dir=b&limit=20`, { token: dave.accessToken }), 'messages');
    assert.ok(!messages.chunk.some((e: { content: { body?: string } }) => e.content.body === 'you cannot hear me'), 'nor in /messages');

    const tagPath = `${V3}/user/${enc(dave.userId)}/rooms/${enc(room)}/tags/m.favourite`;
    expectOk(await rawRequest(ctx.server, 'PUT', tagPath, { token: dave.accessToken, body: { order: 0.25 } }), 'tag');
    expectError(await rawRequest(ctx.server, 'PUT', tagPath, { token: dave.accessToken, body: { order: 'first' } }), 400, 'M_BAD_JSON', 'tag with a string order');
    expectOk(
      await rawRequest(ctx.server, 'PUT', `${V3}/user/${enc(dave.userId)}/account_data/m.direct`, { token: dave.accessToken, body: { [erin.userId]: [room] } }),
      'm.direct',
    );
    expectOk(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(room)}/read_markers`, { token: dave.accessToken, body: { 'm.fully_read': mine, 'm.read': mine } }),
      'read_markers',
    );
    expectError(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(room)}/read_markers`, { token: dave.accessToken, body: { 'm.fully_read': '$nope' } }),
      404,
      'M_NOT_FOUND',
      'read marker on an unknown event',
    );
    const later = await sync(ctx.server, dave, { since: after.next_batch });
    const roomData = later.rooms?.join?.[room]?.account_data?.events ?? [];
    const byType = new Map(roomData.map((e: { type: string; content: unknown }) => [e.type, e.content]));
    assert.deepEqual(byType.get('m.tag'), { tags: { 'm.favourite': { order: 0.25 } } });
    assert.deepEqual(byType.get('m.fully_read'), { event_id: mine });
    const direct = (later.account_data?.events ?? []).find((e: { type: string }) => e.type === 'm.direct');
    assert.deepEqual(direct?.content, { [erin.userId]: [room] });
  });

  it('should lazy-load members in /sync and list the members at a sync token', async () => {
    const frank = await registerUser(ctx.server, uniq('frank'));
    const henry = await registerUser(ctx.server, uniq('henry'));
    const room = await createRoom(ctx.server, frank, { preset: 'public_chat', name: 'Lazy' });
    // More silent members than the five heroes, so some are neither heroes nor senders.
    const silent: User[] = [];
    for (let i = 0; i < 7; i++) {
      const u = await registerUser(ctx.server, uniq('silent'));
      await joinRoom(ctx.server, u, room);
      silent.push(u);
    }
    const beforeHenry = await sync(ctx.server, frank);
    await joinRoom(ctx.server, henry, room);
    for (let i = 0; i < 3; i++) await sendText(ctx.server, henry, room, `henry ${i}`);
    const memberKeys = (body: { rooms: { join: Record<string, { state: { events: Array<{ type: string; state_key: string }> } }> } }) =>
      body.rooms.join[room].state.events.filter((e) => e.type === 'm.room.member').map((e) => e.state_key);
    const lazy = memberKeys(await sync(ctx.server, frank, { filter: JSON.stringify({ room: { state: { lazy_load_members: true }, timeline: { limit: 2 } } }) }));
    const full = memberKeys(await sync(ctx.server, frank, { filter: JSON.stringify({ room: { timeline: { limit: 2 } } }) }));
    assert.ok(lazy.includes(henry.userId), 'the timeline sender’s member event is sent');
    assert.equal(full.length, 9, 'a full sync has every member');
    assert.ok(lazy.length < full.length, `lazy loading leaves out silent members (got ${lazy.length} of ${full.length})`);
    const at = expectOk(
      await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(room)}/members?at=${enc(beforeHenry.next_batch)}`, { token: frank.accessToken }),
      'members at',
    );
    const joinedThen = at.chunk.filter((e: { content: { membership: string } }) => e.content.membership === 'join').map((e: { state_key: string }) => e.state_key);
    assert.deepEqual(joinedThen.sort(), [frank.userId, ...silent.map((u) => u.userId)].sort(), 'henry had not joined at that token');
  });

  it('should list a mention under /notifications as a highlight', async () => {
    const ian = await registerUser(ctx.server, uniq('ian'));
    const jo = await registerUser(ctx.server, uniq('jo'));
    const room = await createRoom(ctx.server, ian, { preset: 'public_chat' });
    await joinRoom(ctx.server, jo, room);
    expectOk(
      await sendRaw(ctx.server, jo, room, { msgtype: 'm.text', body: 'ian, look', 'm.mentions': { user_ids: [ian.userId] } }),
      'mention',
    );
    let found: { actions: unknown[]; read: boolean; room_id: string } | undefined;
    for (let i = 0; i < 50 && !found; i++) {
      const res = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/notifications?only=highlight`, { token: ian.accessToken }), 'notifications');
      found = res.notifications.find((n: { event: { content: { body?: string } } }) => n.event.content.body === 'ian, look');
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(found, 'the mention is listed');
    assert.equal(found.room_id, room);
    assert.equal(found.read, false);
    assert.ok(found.actions.some((a) => typeof a === 'object' && a !== null && (a as { set_tweak?: string }).set_tweak === 'highlight'));
    expectError(await rawRequest(ctx.server, 'GET', `${V3}/notifications?from=garbage`, { token: ian.accessToken }), 400, 'M_INVALID_PARAM', 'bad from');
  });

  it('should serve an erased user’s messages redacted to users who join later', async () => {
    const kim = await registerUser(ctx.server, uniq('kim'));
    const leo = await registerUser(ctx.server, uniq('leo'));
    const room = await createRoom(ctx.server, kim, { preset: 'public_chat' });
    await joinRoom(ctx.server, leo, room);
    const secret = await sendText(ctx.server, leo, room, 'my secret words');
    const challenge = await rawRequest(ctx.server, 'POST', `${V3}/account/deactivate`, { token: leo.accessToken, body: { erase: true } });
    assert.equal(challenge.status, 401);
    expectOk(
      await rawRequest(ctx.server, 'POST', `${V3}/account/deactivate`, {
        token: leo.accessToken,
        body: {
          erase: true,
          auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: leo.userId }, password: leo.password, session: challenge.json.session },
        },
      }),
      'deactivate with erase',
    );
    const newcomer = await registerUser(ctx.server, uniq('newcomer'));
    await joinRoom(ctx.server, newcomer, room);
    const seen = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(room)}/event/${enc(secret)}`, { token: newcomer.accessToken }), 'event');
    assert.equal(seen.content.body, undefined, 'a later joiner gets the redacted copy');
    const profile = await rawRequest(ctx.server, 'GET', `${V3}/profile/${enc(leo.userId)}`, { token: kim.accessToken });
    assert.ok(profile.status === 404 || (profile.json.displayname === undefined && profile.json.avatar_url === undefined), 'the profile is gone');
  });

  it('should list shared rooms through matrix-js-sdk (MSC2666 as advertised in /versions)', async () => {
    const room = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    await joinRoom(ctx.server, carol, room);
    const tc = makeClient(ctx.server, alice);
    try {
      const shared = await tc.client._unstable_getSharedRooms(carol.userId);
      assert.ok(shared.includes(room), `the shared room is listed: ${JSON.stringify(shared)}`);
    } finally {
      tc.stop();
    }
  });

  it('should accept uploads and serve config on the media r0 paths older bots use', async () => {
    const config = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/media/r0/config', { token: alice.accessToken }), 'r0 config');
    assert.equal(typeof config['m.upload.size'], 'number');
    const up = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/media/r0/upload?filename=note.txt', {
        token: alice.accessToken,
        rawBody: Buffer.from('from an old bot'),
        headers: { 'Content-Type': 'text/plain' },
      }),
      'r0 upload',
    );
    const [, server, id] = /^mxc:\/\/([^/]+)\/(.+)$/.exec(up.content_uri) ?? [];
    const got = await rawRequest(ctx.server, 'GET', `${V1}/media/download/${server}/${id}`, { token: alice.accessToken });
    assert.equal(got.status, 200);
    assert.equal(got.text, 'from an old bot');
    expectError(
      await rawRequest(ctx.server, 'POST', '/_matrix/media/r0/upload', { rawBody: Buffer.from('x'), headers: { 'Content-Type': 'text/plain' } }),
      401,
      'M_MISSING_TOKEN',
      'r0 upload without a token',
    );
  });
});
