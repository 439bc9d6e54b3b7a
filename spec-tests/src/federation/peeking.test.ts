// Reading a world_readable room without joining it ("peeking"), across servers: the spec has
// no federation peeking (MSC2444 is unmerged), so a local non-member can read the history
// and state of a world_readable room its server already knows (because another local user
// joined it), as Synapse allows; a room its server does not know stays unreadable.
// Spec: client-server-api/_index.md "History visibility" (world_readable), "Peeking".
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { createRoom, enc, expectOk, rawRequest, registerUser } from '../harness/http.js';
import { joinVia, text, waitForEvent, type Member } from './threeServers.js';

const fed = useFederatedServers(2);
let hrServer: FederatedServer;
let legalServer: FederatedServer;
let alice: Member; // hr
let bob: Member; // legal, joins
let dave: Member; // legal, never joins

before(async () => {
  [hrServer, legalServer] = await fed.ready();
  alice = { server: hrServer, user: await registerUser(hrServer, 'alice') };
  bob = { server: legalServer, user: await registerUser(legalServer, 'bob') };
  dave = { server: legalServer, user: await registerUser(legalServer, 'dave') };
});

const worldReadable = { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } };

test('it should let a local non-member read messages and state of a world_readable remote room its server knows', async () => {
  const roomId = await createRoom(hrServer, alice.user, { preset: 'public_chat', name: 'Announcements', initial_state: [worldReadable] });
  await joinVia(bob, roomId, [hrServer]);
  const msg = await text(alice, roomId, 'read me without joining');
  await waitForEvent(bob, roomId, msg);

  const messages = expectOk(
    await rawRequest(legalServer, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=20`, { token: dave.user.accessToken }),
    'dave reads /messages without joining',
  );
  assert.ok((messages.chunk as Array<{ event_id: string }>).some((e) => e.event_id === msg), 'the message is in the history');
  const state = expectOk(await rawRequest(legalServer, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`, { token: dave.user.accessToken }), 'dave reads /state');
  assert.ok((state as Array<{ type: string; content: Record<string, unknown> }>).some((e) => e.type === 'm.room.name' && e.content.name === 'Announcements'));
});

test('it should refuse a non-member the history of a room that is not world_readable, or that its server does not know', async () => {
  const shared = await createRoom(hrServer, alice.user, { preset: 'public_chat', name: 'Members only' });
  await joinVia(bob, shared, [hrServer]);
  const denied = await rawRequest(legalServer, 'GET', `/_matrix/client/v3/rooms/${enc(shared)}/messages?dir=b`, { token: dave.user.accessToken });
  assert.equal(denied.status, 403);

  // legal has no user in this room, so it holds none of it: no peeking over federation.
  const unknown = await createRoom(hrServer, alice.user, { preset: 'public_chat', initial_state: [worldReadable] });
  const notHere = await rawRequest(legalServer, 'GET', `/_matrix/client/v3/rooms/${enc(unknown)}/messages?dir=b`, { token: dave.user.accessToken });
  assert.equal(notHere.status, 403);
});
