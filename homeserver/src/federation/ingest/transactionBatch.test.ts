// The PDUs of one transaction are decided and written together (one durable batch for a
// run of events whose graph is all here): what a sender and a local user must still see
// is each PDU judged on its own — good ones all in, a bad one with its own error — holes
// and redactions handled on the way, and nothing acknowledged lost to a crash.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import { stateKeyOf } from '@parley/federation/core/types';
import { openTestRooms } from '../../rooms/testing.js';
import { runUntilKilled } from '../../testing/killChild.js';
import { REMOTE, withInboundKit as withKit, type InboundKit } from '../testing/inboundKit.js';

async function timelineBodies(k: InboundKit, roomId: string): Promise<string[]> {
  const events = await k.rooms.reader.timeline(roomId, { dir: 'f', limit: 1000 });
  return events.filter((e) => e.pdu.type === 'm.room.message').map((e) => String(e.pdu.content.body ?? '(redacted)'));
}

test('it should accept every good PDU of a transaction and give each bad one its own error', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    const plId = (await k.rooms.reader.currentStateEvent(roomId, 'm.room.power_levels', ''))!.eventId;
    const joinRulesId = (await k.rooms.reader.currentStateEvent(roomId, 'm.room.join_rules', ''))!.eventId;
    // After the rejected grab the fake would cite it: auth events are given explicitly from there on.
    let authEvents: string[] | undefined;
    const msg = (body: string, prevEvents?: string[]) =>
      k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body }, ...(prevEvents ? { prevEvents } : {}), ...(authEvents ? { authEvents } : {}) });
    const m1 = msg('one');
    const forged = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'forged' }, signWith: generateSigningKey() });
    const m2 = msg('two', [m1.eventId]);
    // bob has power 0: changing the power levels is rejected, yet what follows it is judged without it.
    const grab = k.remote.build(roomId, { type: 'm.room.power_levels', sender: bob, stateKey: '', content: { users: { [bob]: 100 } } });
    authEvents = m2.pdu.auth_events;
    const m3 = msg('three');
    const rename = k.remote.build(roomId, { type: 'm.room.member', sender: bob, stateKey: bob, content: { membership: 'join', displayname: 'Bobby' }, authEvents: [...authEvents, joinRulesId] });
    authEvents = [plId, rename.eventId];
    const m4 = msg('four');
    const redaction = k.remote.build(roomId, { type: 'm.room.redaction', sender: bob, content: { redacts: m2.eventId }, authEvents });
    const m5 = msg('five');

    const res = await k.ingest.ingestPdus(REMOTE, [m1, forged, m2, grab, m3, rename, m4, redaction, m5, m1].map((e) => e.pdu));

    assert.match(res.get(forged.eventId)?.error ?? '', /signature/);
    assert.match(res.get(grab.eventId)?.error ?? '', /rejected/);
    for (const e of [m1, m2, m3, rename, m4, redaction, m5]) assert.deepEqual(res.get(e.eventId), {}, `result of ${String(e.pdu.content.body ?? e.pdu.type)}`);
    assert.equal(await k.rooms.reader.getEvent(forged.eventId), undefined);
    assert.deepEqual(await timelineBodies(k, roomId), ['one', '(redacted)', 'three', 'four', 'five']);
    assert.equal((await k.rooms.reader.currentStateEvent(roomId, 'm.room.member', bob))?.pdu.content.displayname, 'Bobby');
    assert.notEqual((await k.rooms.reader.currentStateEvent(roomId, 'm.room.power_levels', ''))?.eventId, grab.eventId);
    const extremities = (await k.rooms.reader.forwardExtremities(roomId)).map((x) => x.eventId);
    assert.ok(extremities.includes(m5.eventId) && !extremities.includes(grab.eventId));
    // The state after the rename holds it; the message before it saw the old member event.
    assert.equal((await k.rooms.reader.stateAfter(rename.eventId))?.get(stateKeyOf('m.room.member', bob)), rename.eventId);
    assert.notEqual((await k.rooms.reader.stateAfter(m3.eventId))?.get(stateKeyOf('m.room.member', bob)), rename.eventId);
  });
});

test('it should fill a hole in the middle of a transaction and still take the events around it', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    const msg = (body: string) => k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body } });
    const [m1, m2, m3, m4, m5] = ['one', 'two', 'three', 'four', 'five'].map(msg);
    // two and three are never sent: four's prev event is unknown until fetched.
    const res = await k.ingest.ingestPdus(REMOTE, [m1, m4, m5].map((e) => e.pdu));
    for (const e of [m1, m4, m5]) assert.deepEqual(res.get(e.eventId), {});
    assert.ok(k.remote.calls.some((c) => c.path.includes('/get_missing_events/')), 'get_missing_events was called');
    assert.ok(await k.rooms.reader.getEvent(m2.eventId));
    assert.ok(await k.rooms.reader.getEvent(m3.eventId));
    assert.deepEqual(await timelineBodies(k, roomId), ['one', 'two', 'three', 'four', 'five']);
  });
});

test('it should tell /sync about the PDUs of a transaction, in order', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const first = await k.clientCall('GET', '/_matrix/client/v3/sync', alice.token);
    const pdus = Array.from({ length: 50 }, (_, i) => k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: `m${i}` } }));
    const res = await k.ingest.ingestPdus(REMOTE, pdus.map((e) => e.pdu));
    assert.equal([...res.values()].filter((r) => r.error === undefined).length, 50);
    const next = await k.clientCall('GET', `/_matrix/client/v3/sync?since=${encodeURIComponent(first.json.next_batch)}&timeout=0`, alice.token);
    const room = next.json.rooms?.join?.[roomId];
    const bodies = (room?.timeline?.events ?? []).map((e: { content: { body?: string } }) => e.content.body);
    // A gappy timeline shows the newest events; all of them are in order.
    assert.ok(bodies.length > 0);
    assert.deepEqual(bodies, pdus.slice(pdus.length - bodies.length).map((e) => e.pdu.content.body));
  });
});

const CHILD = fileURLToPath(new URL(`./ingestCrashChild${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

test('it should keep every PDU it acknowledged, placed in the timeline and state, when killed right after answering', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-ingest-crash-'));
  try {
    // The room ID, then 200 acknowledged PDUs.
    const [roomId, ...accepted] = await runUntilKilled(CHILD, [dir], 201);
    assert.ok(accepted.length >= 200);
    const t = await openTestRooms(dir);
    try {
      const { reader, storage } = t.rooms;
      const timeline = await reader.timeline(roomId, { dir: 'f', limit: 100_000 });
      const placed = new Set(timeline.map((e) => e.eventId));
      for (const id of accepted) {
        const ev = await reader.getEvent(id);
        assert.ok(ev && !ev.outlier && ev.stream > 0, `acknowledged PDU ${id} is missing or not placed`);
        assert.ok(placed.has(id), `acknowledged PDU ${id} is not in the timeline`);
      }
      // Whatever was stored (acknowledged or not) is whole: the tip is the last stored event.
      const shortRoom = (await storage.ids.room(roomId))!;
      const record = (await storage.rooms.get(shortRoom))!;
      const last = timeline[timeline.length - 1];
      assert.deepEqual(record.extremities.map((x) => x.eventId), [last.eventId]);
      assert.equal(record.lastStream, last.stream);
      assert.deepEqual(new Map(await storage.state.resolve(record.stateGroup)), await storage.state.current(shortRoom));
      const bob = last.pdu.sender;
      const member = await reader.membership(roomId, bob);
      assert.equal(member?.eventId, (await reader.currentStateEvent(roomId, 'm.room.member', bob))?.eventId);
    } finally {
      await t.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
