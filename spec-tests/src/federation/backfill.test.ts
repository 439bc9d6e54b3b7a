// History from before a server joined: eng joins a room on hr where hr and legal already
// exchanged 20 messages; paging /messages backwards on eng reaches past its join and
// fetches the earlier history from the other servers (federation backfill), in order.
// Incremental /sync never replays that history.
// Spec: server-server-api.md "Backfilling and retrieving missing events"; client-server-api
// "Getting events for a room" (/messages).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { createRoom, registerUser } from '../harness/http.js';
import { joinVia, syncOnce, text, timeline, waitForEvent, type Member } from './threeServers.js';

const fed = useFederatedServers(3);
let hr: FederatedServer;
let legal: FederatedServer;
let eng: FederatedServer;
let alice: Member;
let bob: Member;
let carol: Member;

before(async () => {
  [hr, legal, eng] = await fed.ready();
  alice = { server: hr, user: await registerUser(hr, 'alice') };
  bob = { server: legal, user: await registerUser(legal, 'bob') };
  carol = { server: eng, user: await registerUser(eng, 'carol') };
});

test('it should page back past a late joiner’s join into the history other servers have, in order, without replaying it in /sync', async () => {
  const roomId = await createRoom(hr, alice.user, { preset: 'public_chat', name: 'Before eng' });
  await joinVia(bob, roomId, [hr]);
  const bodies: string[] = [];
  let last = '';
  for (let i = 0; i < 20; i++) {
    const who = i % 2 === 0 ? alice : bob;
    const body = `history ${i} from ${who.server.serverName}`;
    bodies.push(body);
    last = await text(who, roomId, body);
    // Each message is sent after the previous one reached the sender's server: one linear history.
    await waitForEvent(i % 2 === 0 ? bob : alice, roomId, last);
  }

  await joinVia(carol, roomId, [legal]);
  const afterJoin = await syncOnce(carol);
  const seenInInitialSync = new Set(((afterJoin.rooms?.join?.[roomId]?.timeline?.events ?? []) as Array<{ event_id: string }>).map((e) => e.event_id));

  const events = await timeline(carol, roomId);
  const messages = events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body as string);
  assert.deepEqual(messages, bodies, 'every earlier message, oldest first');
  const types = events.map((e) => e.type as string);
  assert.equal(types[0], 'm.room.create', `paging back reaches the room’s beginning: ${types.join(' ')}`);
  assert.ok(types.indexOf('m.room.create') < types.lastIndexOf('m.room.message'));
  const carolJoin = events.findIndex((e) => e.type === 'm.room.member' && e.state_key === carol.user.userId);
  assert.ok(carolJoin > events.findIndex((e) => e.content?.body === bodies[19]), 'the history comes before eng’s join');

  // A second walk is served from what was fetched: same events, same order.
  const again = await timeline(carol, roomId);
  assert.deepEqual(again.map((e) => e.event_id), events.map((e) => e.event_id));

  // The fetched history never turns up in incremental sync.
  const next = await syncOnce(carol, afterJoin.next_batch);
  const replayed = ((next.rooms?.join?.[roomId]?.timeline?.events ?? []) as Array<{ event_id: string; type: string }>).filter(
    (e) => e.type === 'm.room.message' && !seenInInitialSync.has(e.event_id),
  );
  assert.deepEqual(replayed, []);
});
