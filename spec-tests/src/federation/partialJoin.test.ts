// Joining a room with partial state (MSC3706 "faster joins") between real Parley processes:
// hr holds a room with many members; legal joins it, asking send_join to omit members (hr
// honours it), answers the client at once, then fetches the rest of the state in the
// background. Every member ends up known on legal, messages of members legal did not know
// at its join are accepted, and both servers converge on the same state.
// Spec: server-server-api.md "Joining Rooms" (joins-v2.yaml omit_members, members_omitted,
// servers_in_room), "Retrieving events".
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { createRoom, enc, expectOk, rawRequest, registerUser } from '../harness/http.js';
import { eventually, joinVia, stateSummary, text, waitForEvent, type Member } from './threeServers.js';

const MEMBERS = 12;

const fed = useFederatedServers(2);
let hrServer: FederatedServer;
let legalServer: FederatedServer;

before(async () => {
  [hrServer, legalServer] = await fed.ready();
});

async function joinedOn(m: Member, roomId: string): Promise<string[]> {
  const res = await rawRequest(m.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/joined_members`, { token: m.user.accessToken });
  return Object.keys(expectOk(res, `joined_members on ${m.server.serverName}`).joined ?? {}).sort();
}

test('it should join a room of many members with partial state, then know every member and agree with the resident', async () => {
  const alice: Member = { server: hrServer, user: await registerUser(hrServer, 'alice') };
  const roomId = await createRoom(hrServer, alice.user, { preset: 'public_chat', name: 'everyone at hr' });
  const staff: Member[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    const m: Member = { server: hrServer, user: await registerUser(hrServer, `staff${i}`) };
    expectOk(await rawRequest(hrServer, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: m.user.accessToken, body: {} }), 'local join on hr');
    staff.push(m);
  }
  const dave: Member = { server: legalServer, user: await registerUser(legalServer, 'dave') };
  await joinVia(dave, roomId, [hrServer]);

  const everyone = [alice, ...staff, dave].map((m) => m.user.userId).sort();
  assert.deepEqual(await eventually('legal to know every member', async () => {
    const joined = await joinedOn(dave, roomId);
    return joined.length === everyone.length ? joined : undefined;
  }), everyone);

  // A member whose membership legal learnt only from the resync speaks; and dave answers.
  const fromStaff = await text(staff[7], roomId, 'hello from hr');
  await waitForEvent(dave, roomId, fromStaff);
  const fromDave = await text(dave, roomId, 'hello from legal');
  await waitForEvent(alice, roomId, fromDave);

  await eventually('both servers to show the same state', async () => {
    const [a, b] = await Promise.all([stateSummary(alice, roomId), stateSummary(dave, roomId)]);
    return JSON.stringify(a) === JSON.stringify(b) ? true : undefined;
  });
  assert.deepEqual(await joinedOn(alice, roomId), everyone);
});
