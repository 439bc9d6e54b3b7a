// Hostile PDUs against a real Parley process: a scripted remote server (its own HTTPS
// listener and signing key, trusted through the test CA) joins a user to a public room on
// Parley with make_join/send_join, then sends transactions holding forged senders, wrong
// content hashes, auth-rule violations, oversized events, unknown prev_events and bad
// signatures. Each is rejected (a per-PDU error), redacted, or fetched around as the spec
// says; nothing hostile reaches the local user's /sync or /messages, and after each a valid
// message from the joined remote user is accepted and seen (the server keeps serving, no
// valid event is lost).
// Spec: server-server-api.md "Checks performed on receipt of a PDU", "Transactions",
// "Validating hashes and signatures on received events", "Retrieving events"
// (get_missing_events); client-server-api "Size limits".
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import { makeFederationPki, startFakeOrigin, startFederatedServer, type FakeOrigin, type FederatedServer, type FederationPki } from '../harness/federation.js';
import { FakeHomeserver, type FakeEvent } from '../harness/fakeHomeserver.js';
import { createRoom, enc, expectOk, rawRequest, registerUser, sync, type Json, type User } from '../harness/http.js';
import { waitUntil } from '../harness/util.js';

let tls: FederationPki;
let parley: FederatedServer;
let alice: User;
let roomId: string;
let remote: FakeHomeserver;
let third: FakeOrigin;
let bob: string;
let since: string;

before(async () => {
  tls = makeFederationPki();
  [parley, remote, third] = await Promise.all([startFederatedServer(tls), FakeHomeserver.start(tls), startFakeOrigin(tls)]);
  alice = await registerUser(parley, 'alice');
  roomId = await createRoom(parley, alice, { preset: 'public_chat', name: 'hostile pdus' });
  bob = remote.user('bob');
  await remote.join(parley, roomId, 'bob');
  await waitUntil(
    async () => (await sync(parley, alice, { timeout: 0 })).rooms?.join?.[roomId]?.state !== undefined && (await membership(bob)) === 'join',
    10_000,
    'bob’s join to show on Parley',
  );
  since = (await sync(parley, alice, { timeout: 0 })).next_batch;
});

after(async () => {
  await parley?.server.dispose();
  await Promise.all([remote?.close(), third?.close()]);
  tls?.dispose();
});

async function membership(userId: string): Promise<string | undefined> {
  const res = await rawRequest(parley, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`, { token: alice.accessToken });
  return res.status === 200 ? (res.json.membership as string) : undefined;
}

const text = (body: string) => ({ msgtype: 'm.text', body });

/** Sends the PDUs in one transaction and answers the per-PDU results. */
async function send(...events: FakeEvent[]): Promise<Record<string, { error?: string }>> {
  const res = await remote.sendTransaction(
    parley,
    events.map((e) => e.pdu),
  );
  return expectOk(res, 'PUT /send').pdus;
}

/** Timeline events alice sees through /sync since the last check (which moves on). */
async function newTimeline(): Promise<Json[]> {
  const body = await sync(parley, alice, { since, timeout: 0 });
  since = body.next_batch;
  return body.rooms?.join?.[roomId]?.timeline?.events ?? [];
}

async function messagesSeen(): Promise<Json[]> {
  const res = await rawRequest(parley, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=200`, { token: alice.accessToken });
  return expectOk(res, '/messages').chunk as Json[];
}

async function assertInvisible(eventId: string, body: string): Promise<void> {
  const seen = await messagesSeen();
  assert.ok(!seen.some((e) => e.event_id === eventId), `${eventId} is in /messages`);
  assert.ok(!seen.some((e) => e.content?.body === body), `"${body}" is in /messages`);
  const ev = await rawRequest(parley, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`, { token: alice.accessToken });
  assert.equal(ev.status, 404, `GET /event of ${eventId}: ${ev.status} ${ev.text}`);
}

/** The server keeps serving: a valid message from bob is accepted and alice sees it in /sync and /messages. */
async function assertStillServing(label: string, hostileIds: string[] = []): Promise<void> {
  const ok = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text(`valid after ${label}`) });
  const results = await send(ok);
  assert.deepEqual(results[ok.eventId], {}, `valid message after ${label}: ${JSON.stringify(results)}`);
  const timeline: Json[] = [];
  await waitUntil(
    async () => {
      timeline.push(...(await newTimeline()));
      return timeline.some((e) => e.event_id === ok.eventId);
    },
    10_000,
    `alice to see the valid message after ${label} in /sync`,
  );
  for (const id of hostileIds) assert.ok(!timeline.some((e) => e.event_id === id), `${label}: ${id} reached /sync`);
  assert.ok((await messagesSeen()).some((e) => e.event_id === ok.eventId && e.content?.body === `valid after ${label}`), `valid message after ${label} in /messages`);
}

test('it should accept a valid message from the joined remote user (baseline)', async () => {
  await assertStillServing('join');
});

test('it should reject a PDU whose sender belongs to a third server that did not sign it', async () => {
  const forged = remote.build(roomId, { type: 'm.room.message', sender: `@mallory:${third.serverName}`, content: text('forged from a third server'), advance: false });
  // And one that impersonates Parley's own user.
  const spoof = remote.build(roomId, { type: 'm.room.message', sender: alice.userId, content: text('I am alice'), advance: false });
  const results = await send(forged, spoof);
  assert.match(results[forged.eventId]?.error ?? '', /signature/i, JSON.stringify(results));
  assert.match(results[spoof.eventId]?.error ?? '', /signature/i, JSON.stringify(results));
  await assertInvisible(forged.eventId, 'forged from a third server');
  await assertInvisible(spoof.eventId, 'I am alice');
  await assertStillServing('forged senders', [forged.eventId, spoof.eventId]);
});

test('it should keep only the redacted form of a PDU whose content hash does not match', async () => {
  const tampered = remote.build(roomId, {
    type: 'm.room.message',
    sender: bob,
    content: text('original'),
    corruptContentAfterSigning: { body: 'tampered in transit' },
    advance: false,
  });
  const results = await send(tampered);
  assert.deepEqual(results[tampered.eventId], {}, 'accepted in redacted form');
  const ev = await rawRequest(parley, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(tampered.eventId)}`, { token: alice.accessToken });
  assert.equal(ev.status, 200, ev.text);
  assert.deepEqual(ev.json.content, {}, 'content stripped');
  const seen = await messagesSeen();
  assert.ok(!seen.some((e) => e.content?.body === 'tampered in transit' || e.content?.body === 'original'), 'neither content is shown');
  await assertStillServing('wrong content hash');
});

test('it should reject a message from a remote user who never joined (auth rules)', async () => {
  const carol = remote.user('carol');
  const intruder = remote.build(roomId, { type: 'm.room.message', sender: carol, content: text('never joined'), advance: false });
  const results = await send(intruder);
  assert.match(results[intruder.eventId]?.error ?? '', /reject/i, JSON.stringify(results));
  await assertInvisible(intruder.eventId, 'never joined');
  assert.equal(await membership(carol), undefined);
  await assertStillServing('auth-rule violation', [intruder.eventId]);
});

test('it should reject an event over 65536 bytes', async () => {
  const huge = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('x'.repeat(70_000)), advance: false });
  assert.ok(Buffer.byteLength(JSON.stringify(huge.pdu)) > 65_536);
  const res = await remote.sendTransaction(parley, [huge.pdu]);
  // The transaction itself is fine (well under any body limit); the PDU gets its own error.
  assert.equal(res.status, 200, res.text.slice(0, 300));
  assert.match(res.json.pdus?.[huge.eventId]?.error ?? '', /bytes|limit|large/i, `per-PDU error expected: ${res.text.slice(0, 300)}`);
  const ev = await rawRequest(parley, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(huge.eventId)}`, { token: alice.accessToken });
  assert.equal(ev.status, 404);
  await assertStillServing('oversized event', [huge.eventId]);
});

test('it should fetch unknown prev_events from the origin with get_missing_events and then accept the event', async () => {
  const callsBefore = remote.calls.length;
  const m1 = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('gap one') });
  const m2 = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('gap two') });
  const m3 = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('after the gap') });
  const results = await send(m3);
  assert.deepEqual(results[m3.eventId], {}, JSON.stringify(results));
  const gme = remote.calls.slice(callsBefore).find((c) => c.method === 'POST' && c.path.includes('/get_missing_events/'));
  assert.ok(gme, `get_missing_events was called; calls: ${remote.calls.slice(callsBefore).map((c) => `${c.method} ${c.path}`).join(', ')}`);
  assert.deepEqual((gme.body as { latest_events: string[] }).latest_events, [m3.eventId]);
  const timeline: Json[] = [];
  await waitUntil(
    async () => {
      timeline.push(...(await newTimeline()));
      return timeline.some((e) => e.event_id === m3.eventId);
    },
    10_000,
    'the event after the gap in /sync',
  );
  const bodies = (await messagesSeen()).map((e) => e.content?.body).reverse();
  const at = bodies.indexOf('gap one');
  assert.deepEqual(bodies.slice(at, at + 3), ['gap one', 'gap two', 'after the gap'], `in DAG order: ${JSON.stringify(bodies)}`);
  for (const id of [m1.eventId, m2.eventId]) {
    const ev = await rawRequest(parley, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(id)}`, { token: alice.accessToken });
    assert.equal(ev.status, 200, `fetched gap event ${id}: ${ev.text}`);
  }
  await assertStillServing('unknown prev_events');
});

test('it should reject a PDU signed with a key the origin never published', async () => {
  const forged = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('wrongly signed'), signWith: generateSigningKey(), advance: false });
  const unsigned = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('unsigned'), advance: false });
  const stripped = { ...unsigned.pdu, signatures: {} };
  const res = await remote.sendTransaction(parley, [forged.pdu, stripped]);
  const results = expectOk(res, 'PUT /send').pdus;
  assert.match(results[forged.eventId]?.error ?? '', /signature/i, JSON.stringify(results));
  assert.match(results[unsigned.eventId]?.error ?? '', /signature/i, JSON.stringify(results));
  await assertInvisible(forged.eventId, 'wrongly signed');
  await assertInvisible(unsigned.eventId, 'unsigned');
  await assertStillServing('bad signatures', [forged.eventId, unsigned.eventId]);
});

test('it should take a valid PDU sent in the same transaction as hostile ones', async () => {
  const good = remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('good among bad') });
  const bad = [
    remote.build(roomId, { type: 'm.room.message', sender: remote.user('dave'), content: text('bad 1'), advance: false }),
    remote.build(roomId, { type: 'm.room.message', sender: bob, content: text('bad 2'), signWith: generateSigningKey(), advance: false }),
  ];
  const results = await send(bad[0], good, bad[1]);
  assert.deepEqual(results[good.eventId], {}, JSON.stringify(results));
  for (const b of bad) assert.ok(results[b.eventId]?.error, `${b.eventId} has an error: ${JSON.stringify(results)}`);
  assert.ok((await messagesSeen()).some((e) => e.event_id === good.eventId));
  await assertStillServing('mixed transaction', bad.map((b) => b.eventId));
});
