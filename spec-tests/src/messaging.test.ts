// Two real matrix-js-sdk clients talking through the server: what a chat app does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeClient, sdk, type MatrixEvent, type TestClient } from './harness/client.js';
import { useServer } from './harness/hooks.js';
import {
  allMessages,
  enc,
  expectError,
  expectOk,
  rawRequest,
  registerUser,
  sendRaw,
  sync,
  type User,
} from './harness/http.js';
import { uniq } from './harness/util.js';

const { EventType, MsgType, RelationType, RoomEvent, Preset } = sdk;

function text(body: string) {
  return { msgtype: MsgType.Text, body } as const;
}

function body(ev: MatrixEvent): unknown {
  return (ev.getContent() as { body?: unknown }).body;
}

function relation(ev: MatrixEvent): { rel_type?: string; event_id?: string; key?: string } | undefined {
  return (ev.getWireContent() as { 'm.relates_to'?: { rel_type?: string; event_id?: string; key?: string } })['m.relates_to'];
}

describe('messaging between two matrix-js-sdk clients', () => {
  const ctx = useServer();
  let aliceUser: User;
  let bobUser: User;
  let alice: TestClient;
  let bob: TestClient;
  /** Receipt events Alice's client has received, as raw content. */
  const aliceReceipts: Record<string, unknown>[] = [];
  let roomId = '';

  before(async () => {
    aliceUser = await registerUser(ctx.server, uniq('alice'));
    bobUser = await registerUser(ctx.server, uniq('bob'));
    alice = makeClient(ctx.server, aliceUser);
    bob = makeClient(ctx.server, bobUser);
    alice.client.on(RoomEvent.Receipt, (ev: MatrixEvent) => {
      aliceReceipts.push(ev.getContent() as Record<string, unknown>);
    });
    await Promise.all([alice.start(), bob.start()]);
  });
  after(() => {
    alice?.stop();
    bob?.stop();
  });

  it('should let Alice create a private room with name and topic, invite Bob, and Bob see the invite and join', async () => {
    const created = await alice.client.createRoom({ preset: Preset.PrivateChat, name: 'Tea party', topic: 'Very merry unbirthdays' });
    roomId = created.room_id;
    assert.match(roomId, /^!/);
    const aliceRoom = await alice.waitForRoom(roomId, 'Alice to see her new room with its name', (r) => r.name === 'Tea party');
    assert.equal(aliceRoom.getMyMembership(), 'join');
    assert.equal(aliceRoom.currentState.getStateEvents('m.room.join_rules', '')?.getContent().join_rule, 'invite', 'private_chat preset means join_rule invite');

    await alice.client.invite(roomId, bobUser.userId);
    const invited = await bob.waitForRoom(roomId, 'Bob to see the invite through sync', (r) => r.getMyMembership() === 'invite');
    assert.equal(invited.getMember(bobUser.userId)?.events.member?.getSender(), aliceUser.userId, 'the invite comes from Alice');
    assert.equal(invited.name, 'Tea party', 'the invite carries the room name (stripped state)');

    await bob.client.joinRoom(roomId);
    const bobRoom = await bob.waitForRoom(roomId, 'Bob to be joined with the room name and topic', (r) =>
      r.getMyMembership() === 'join' && r.name === 'Tea party' && r.currentState.getStateEvents('m.room.topic', '')?.getContent().topic === 'Very merry unbirthdays',
    );
    assert.ok(bobRoom);
    await alice.waitForEvent(roomId, "Alice to see Bob's join", (e) => e.getType() === 'm.room.member' && e.getStateKey() === bobUser.userId && e.getContent().membership === 'join');
  });

  it('should deliver messages both ways in order', async () => {
    assert.ok(roomId, 'needs the room from the previous test');
    await alice.client.sendMessage(roomId, text('Hello Bob'));
    await alice.client.sendMessage(roomId, text('Have some tea'));
    const hello = await bob.waitForEvent(roomId, 'Bob to receive "Hello Bob"', (e) => body(e) === 'Hello Bob');
    assert.equal(hello.getSender(), aliceUser.userId);
    await bob.waitForEvent(roomId, 'Bob to receive "Have some tea"', (e) => body(e) === 'Have some tea');
    await bob.client.sendMessage(roomId, text('Hi Alice'));
    const hi = await alice.waitForEvent(roomId, 'Alice to receive "Hi Alice"', (e) => body(e) === 'Hi Alice');
    assert.equal(hi.getSender(), bobUser.userId);
    const bodies = (await allMessages(ctx.server, aliceUser, roomId)).map((e) => e.content.body);
    assert.deepEqual(bodies, ['Hello Bob', 'Have some tea', 'Hi Alice'], 'server history must hold the messages in send order');
  });

  it('should deliver an edit (m.replace) and a reaction (m.annotation) to the other user', async () => {
    const { event_id: original } = await alice.client.sendMessage(roomId, text('I like coffee'));
    await bob.waitForEvent(roomId, 'Bob to receive the original', (e) => e.getId() === original);
    await alice.client.sendEvent(roomId, EventType.RoomMessage, {
      msgtype: MsgType.Text,
      body: '* I like tea',
      'm.new_content': { msgtype: MsgType.Text, body: 'I like tea' },
      'm.relates_to': { rel_type: RelationType.Replace, event_id: original },
    });
    const edit = await bob.waitForEvent(roomId, 'Bob to receive the edit', (e) => relation(e)?.rel_type === 'm.replace' && relation(e)?.event_id === original);
    assert.equal((edit.getWireContent() as { 'm.new_content'?: { body?: string } })['m.new_content']?.body, 'I like tea');
    assert.equal(edit.getSender(), aliceUser.userId);

    await bob.client.sendEvent(roomId, EventType.Reaction, {
      'm.relates_to': { rel_type: RelationType.Annotation, event_id: original, key: '👍' },
    });
    const reaction = await alice.waitForEvent(roomId, "Alice to receive Bob's 👍 reaction", (e) => e.getType() === 'm.reaction' && relation(e)?.event_id === original);
    assert.equal(relation(reaction)?.rel_type, 'm.annotation');
    assert.equal(relation(reaction)?.key, '👍');
    assert.equal(reaction.getSender(), bobUser.userId);
  });

  it('should strip the content of a redacted message for the other user', async () => {
    const { event_id: secret } = await alice.client.sendMessage(roomId, text('my password is hunter2'));
    await bob.waitForEvent(roomId, 'Bob to receive the message before redaction', (e) => e.getId() === secret);
    await alice.client.redactEvent(roomId, secret, undefined, { reason: 'oops' });
    const redaction = await bob.waitForEvent(roomId, 'Bob to receive the redaction', (e) => e.getType() === 'm.room.redaction' && (e.getAssociatedId() === secret));
    assert.equal(redaction.getSender(), aliceUser.userId);

    // What the server now serves to Bob, both for the event and in history.
    const res = await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(secret)}`, { token: bobUser.accessToken });
    const ev = expectOk(res, 'GET redacted event');
    assert.equal(ev.content.body, undefined, `the server must strip the body of a redacted event: ${res.text}`);
    assert.deepEqual(ev.content, {}, 'm.room.message content is emptied by redaction');
    assert.equal(ev.unsigned?.redacted_because?.event_id, redaction.getId(), 'unsigned.redacted_because should name the redaction');
    const history = await allMessages(ctx.server, bobUser, roomId);
    assert.ok(!JSON.stringify(history).includes('hunter2'), 'redacted text must not appear in /messages');

    // A fresh client for Bob (initial sync) never sees the text either.
    const fresh = expectOk(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/sync?filter=${enc(JSON.stringify({ room: { timeline: { limit: 50 } } }))}`, { token: bobUser.accessToken }),
      'fresh initial sync',
    );
    assert.ok(!JSON.stringify(fresh).includes('hunter2'), 'redacted text must not appear in an initial sync');
  });

  it('should show a typing notification and a read receipt to the other user', async () => {
    await alice.client.sendTyping(roomId, true, 20_000);
    await bob.waitFor('Bob to see Alice typing', () => bob.client.getRoom(roomId)?.getMember(aliceUser.userId)?.typing === true);
    await alice.client.sendTyping(roomId, false, 0);
    await bob.waitFor('Bob to see Alice stop typing', () => bob.client.getRoom(roomId)?.getMember(aliceUser.userId)?.typing === false);

    const { event_id: readMe } = await alice.client.sendMessage(roomId, text('Did you read this?'));
    const seen = await bob.waitForEvent(roomId, 'Bob to receive the message to read', (e) => e.getId() === readMe);
    await bob.client.sendReadReceipt(seen);
    await alice.waitFor("Alice to receive Bob's m.read receipt", () =>
      aliceReceipts.some((c) => {
        const forEvent = c[readMe] as Record<string, Record<string, { ts?: number }>> | undefined;
        return typeof forEvent?.['m.read']?.[bobUser.userId]?.ts === 'number';
      }),
    );
  });

  it('should let Bob leave and forget the room so it disappears from his sync and history', async () => {
    const roomForLeaving = (await alice.client.createRoom({ preset: Preset.PrivateChat, name: 'Short visit' })).room_id;
    await alice.client.invite(roomForLeaving, bobUser.userId);
    await bob.waitForRoom(roomForLeaving, 'Bob to see the invite', (r) => r.getMyMembership() === 'invite');
    await bob.client.joinRoom(roomForLeaving);
    await alice.client.sendMessage(roomForLeaving, text('before you go'));
    await bob.waitForEvent(roomForLeaving, 'Bob to see the message', (e) => body(e) === 'before you go');

    await bob.client.leave(roomForLeaving);
    await alice.waitForEvent(roomForLeaving, 'Alice to see Bob leave', (e) => e.getType() === 'm.room.member' && e.getStateKey() === bobUser.userId && e.getContent().membership === 'leave');
    await bob.waitForRoom(roomForLeaving, "Bob's client to see itself leave", (r) => r.getMyMembership() === 'leave');
    const joined = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/joined_rooms', { token: bobUser.accessToken }), 'joined_rooms');
    assert.ok(!joined.joined_rooms.includes(roomForLeaving), 'a left room is not in joined_rooms');

    const includeLeave = { filter: JSON.stringify({ room: { include_leave: true } }) };
    const beforeForget = await sync(ctx.server, bobUser, includeLeave);
    assert.ok(beforeForget.rooms?.leave?.[roomForLeaving], 'before forgetting, include_leave sync lists the left room');

    await bob.client.forget(roomForLeaving);
    const afterForget = await sync(ctx.server, bobUser, includeLeave);
    assert.equal(afterForget.rooms?.leave?.[roomForLeaving], undefined, 'a forgotten room must not appear in sync any more');
    const msgs = await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomForLeaving)}/messages?dir=b&limit=10`, { token: bobUser.accessToken });
    expectError(msgs, 403, 'M_FORBIDDEN', 'history of a forgotten room');

    // Forgetting a room you are still in is refused.
    const stillIn = await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/forget`, { token: bobUser.accessToken, body: {} });
    expectError(stillIn, 400, 'M_UNKNOWN', 'forget a room Bob is still joined to (spec example errcode)');
  });

  it('should kick, ban and unban, each reaching the affected user and enforced by the server', async () => {
    const pub = (await alice.client.createRoom({ preset: Preset.PublicChat, name: 'Town square' })).room_id;
    await bob.client.joinRoom(pub);
    // Membership events for Bob already seen, so each wait only matches the new one.
    const seen = new Set<string>();
    const bobMembership = async (who: TestClient, membership: string, description: string): Promise<MatrixEvent> => {
      const ev = await who.waitForEvent(pub, description, (e) =>
        e.getType() === 'm.room.member' && e.getStateKey() === bobUser.userId && e.getContent().membership === membership && !seen.has(e.getId()!),
      );
      seen.add(ev.getId()!);
      return ev;
    };
    await bobMembership(alice, 'join', 'Alice to see Bob join');

    await alice.client.kick(pub, bobUser.userId, 'too loud');
    const kick = await bobMembership(bob, 'leave', 'Bob to see he was kicked');
    assert.equal(kick.getSender(), aliceUser.userId, 'the kick is sent by Alice');
    assert.equal(kick.getContent().reason, 'too loud');
    expectError(await sendRaw(ctx.server, bobUser, pub, { msgtype: 'm.text', body: 'let me in' }), 403, 'M_FORBIDDEN', 'kicked user sends');

    await bob.client.joinRoom(pub); // public room: kicked users may rejoin
    await bobMembership(alice, 'join', 'Alice to see Bob rejoin');

    await alice.client.ban(pub, bobUser.userId, 'spam');
    const ban = await bobMembership(bob, 'ban', 'Bob to see he was banned');
    assert.equal(ban.getContent().reason, 'spam');
    const rejoin = await rawRequest(ctx.server, 'POST', `/_matrix/client/v3/join/${enc(pub)}`, { token: bobUser.accessToken, body: {} });
    expectError(rejoin, 403, 'M_FORBIDDEN', 'banned user joins');
    const member = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(pub)}/state/m.room.member/${enc(bobUser.userId)}`, { token: aliceUser.accessToken }), 'member state');
    assert.equal(member.membership, 'ban', 'the failed join did not change the ban');

    await alice.client.unban(pub, bobUser.userId);
    const unban = await bobMembership(alice, 'leave', 'Alice to see the unban');
    assert.equal(unban.getSender(), aliceUser.userId);
    await bob.client.joinRoom(pub);
    await bobMembership(alice, 'join', 'Alice to see Bob join after the unban');
  });

  it('should create a room with an alias that Bob can join by alias, and manage aliases in the directory', async () => {
    const local = uniq('lobby');
    const alias = `#${local}:${ctx.server.serverName}`;
    const created = await alice.client.createRoom({ preset: Preset.PublicChat, name: 'Lobby', room_alias_name: local });
    const resolved = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/directory/room/${enc(alias)}`, { token: bobUser.accessToken }), 'resolve alias');
    assert.equal(resolved.room_id, created.room_id);
    assert.ok(Array.isArray(resolved.servers) && resolved.servers.includes(ctx.server.serverName), `servers must include ${ctx.server.serverName}: ${JSON.stringify(resolved)}`);
    const canonical = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(created.room_id)}/state/m.room.canonical_alias/`, { token: aliceUser.accessToken }), 'canonical alias');
    assert.equal(canonical.alias, alias, 'createRoom with room_alias_name sets m.room.canonical_alias');

    const joined = await bob.client.joinRoom(alias);
    assert.equal(joined.roomId, created.room_id, 'joining by alias joins the aliased room');
    await alice.waitForEvent(created.room_id, 'Alice to see Bob join by alias', (e) => e.getType() === 'm.room.member' && e.getStateKey() === bobUser.userId && e.getContent().membership === 'join');

    const taken = await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/createRoom', { token: bobUser.accessToken, body: { room_alias_name: local } });
    expectError(taken, 400, 'M_ROOM_IN_USE', 'createRoom with a taken alias');

    // Directory PUT / GET / DELETE
    const extra = `#${uniq('extra')}:${ctx.server.serverName}`;
    const path = `/_matrix/client/v3/directory/room/${enc(extra)}`;
    expectError(await rawRequest(ctx.server, 'GET', path, { token: aliceUser.accessToken }), 404, 'M_NOT_FOUND', 'alias before PUT');
    expectOk(await rawRequest(ctx.server, 'PUT', path, { token: aliceUser.accessToken, body: { room_id: created.room_id } }), 'PUT alias');
    assert.equal(expectOk(await rawRequest(ctx.server, 'GET', path, { token: bobUser.accessToken }), 'GET alias').room_id, created.room_id);
    expectError(await rawRequest(ctx.server, 'PUT', path, { token: aliceUser.accessToken, body: { room_id: roomId } }), 409, 'M_UNKNOWN', 'PUT an existing alias');
    assert.equal(expectOk(await rawRequest(ctx.server, 'GET', path, { token: bobUser.accessToken }), 'GET alias after 409').room_id, created.room_id, 'a 409 must not repoint the alias');
    const listed = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/rooms/${enc(created.room_id)}/aliases`, { token: aliceUser.accessToken }), 'room aliases');
    assert.ok(listed.aliases.includes(extra) && listed.aliases.includes(alias), `GET /aliases lists both: ${JSON.stringify(listed)}`);
    expectOk(await rawRequest(ctx.server, 'DELETE', path, { token: aliceUser.accessToken }), 'DELETE alias');
    expectError(await rawRequest(ctx.server, 'GET', path, { token: aliceUser.accessToken }), 404, 'M_NOT_FOUND', 'alias after DELETE');
    expectError(await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/directory/room/${enc('#no-colon-here')}`, { token: aliceUser.accessToken, body: { room_id: created.room_id } }), 400, 'M_INVALID_PARAM', 'PUT an invalid alias');
  });
});
