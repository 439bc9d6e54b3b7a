// Rooms of older versions across servers: for each room version a room made on hr (createRoom
// with room_version) is joined from legal, a message goes each way, and a redaction made
// on legal strips the event on hr. The versions differ in event ID format (v1/v2 `$id:server`
// with [ID, hash] reference pairs, v3+ hashes), state resolution (v1 in room version 1),
// redaction rules, where `redacts` lives (v11 moved it into content), and whether the
// create event is an auth event (dropped in v12) — all of which must agree between servers.
// Spec: server-server-api.md "Joining Rooms", "Room Versions"; rooms/v1.md … rooms/v12.md.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { createRoom, enc, expectOk, rawRequest, registerUser, txnId } from '../harness/http.js';
import { eventually, getState, joinVia, syncOnce, text, timeline, waitForEvent, type Member } from './threeServers.js';

const fed = useFederatedServers(2);
let hrServer: FederatedServer;
let legalServer: FederatedServer;
let alice: Member; // hr
let bob: Member; // legal

before(async () => {
  [hrServer, legalServer] = await fed.ready();
  alice = { server: hrServer, user: await registerUser(hrServer, 'alice') };
  bob = { server: legalServer, user: await registerUser(legalServer, 'bob') };
});

for (const version of ['1', '2', '3', '6', '9', '10', '11', '12']) {
  test(`it should join a version ${version} room on another server and carry messages and a redaction both ways`, async () => {
    const roomId = await createRoom(hrServer, alice.user, { preset: 'public_chat', name: `v${version}`, room_version: version });
    const created = expectOk(
      await rawRequest(hrServer, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.create/`, { token: alice.user.accessToken }),
      'read the create event',
    );
    assert.equal(created.room_version, version);

    // v1/v2: history from before the join reaches legal through backfill, with its reference pairs intact.
    const oldEnough = version === '1' || version === '2';
    const early: string[] = [];
    if (oldEnough) for (let i = 0; i < 3; i++) early.push(await text(alice, roomId, `early ${i} in v${version}`));

    await joinVia(bob, roomId, [hrServer]);
    if (oldEnough) {
      const history = (await timeline(bob, roomId)).filter((e) => e.type === 'm.room.message').map((e) => e.event_id);
      assert.deepEqual(history, early, 'the earlier messages, backfilled from hr, oldest first');
    }
    const bobCreate = expectOk(
      await rawRequest(legalServer, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.create/`, { token: bob.user.accessToken }),
      'legal knows the room',
    );
    assert.equal(bobCreate.room_version, version);

    const fromAlice = await text(alice, roomId, `hello from hr in v${version}`);
    const seenByBob = await waitForEvent(bob, roomId, fromAlice);
    assert.equal((seenByBob.content as Record<string, unknown>).body, `hello from hr in v${version}`);
    if (version === '3') assert.doesNotMatch(fromAlice, /:/, 'v3+ event IDs are hashes without a server name');
    if (version === '1' || version === '2') assert.ok(fromAlice.endsWith(`:${hrServer.serverName}`), `v1/v2 event IDs carry the server name: ${fromAlice}`);

    const fromBob = await text(bob, roomId, `hello from legal in v${version}`);
    await waitForEvent(alice, roomId, fromBob, (e) => (e.content as Record<string, unknown>).body === `hello from legal in v${version}`);
    if (version === '1' || version === '2') assert.ok(fromBob.endsWith(`:${legalServer.serverName}`), `v1/v2 event IDs carry the server name: ${fromBob}`);

    const redacted = expectOk(
      await rawRequest(legalServer, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/redact/${enc(fromBob)}/${enc(txnId())}`, {
        token: bob.user.accessToken,
        body: { reason: 'oops' },
      }),
      'bob redacts his message',
    );
    assert.equal(typeof redacted.event_id, 'string');
    await waitForEvent(alice, roomId, fromBob, (e) => Object.keys((e.content as Record<string, unknown>) ?? {}).length === 0);
  });
}

test('it should invite a user of another server into a version 1 room, which the invitee’s server countersigns, and let them join through it', async () => {
  const carol: Member = { server: legalServer, user: await registerUser(legalServer, 'carol') };
  const roomId = await createRoom(hrServer, alice.user, { preset: 'private_chat', name: 'v1 private', room_version: '1' });
  expectOk(
    await rawRequest(hrServer, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, { token: alice.user.accessToken, body: { user_id: carol.user.userId } }),
    'invite carol',
  );
  const invited = await eventually('the invite in carol’s sync', async () => {
    const body = await syncOnce(carol);
    return body.rooms?.invite?.[roomId] as { invite_state: { events: Array<Record<string, any>> } } | undefined;
  });
  assert.ok(invited.invite_state.events.some((e) => e.type === 'm.room.name' && e.content.name === 'v1 private'));
  expectOk(await rawRequest(legalServer, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: carol.user.accessToken, body: {} }), 'carol accepts');
  const hello = await text(carol, roomId, 'joined a v1 room by invite');
  await waitForEvent(alice, roomId, hello);
  assert.equal((await getState(alice, roomId, 'm.room.member', carol.user.userId))?.membership, 'join');
});
