// Receiving PDUs from another server: the checks on receipt, rejection, soft failure,
// filling holes in the graph, and state resolution of forks — with a fake remote server
// that signs real events, against a real homeserver (LevelDB, rooms, sync).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import { stateKeyOf } from '@parley/federation/core/types';
import { openInboundKit, REMOTE, type InboundKit } from '../testing/inboundKit.js';

async function withKit(fn: (k: InboundKit) => Promise<void>): Promise<void> {
  const k = await openInboundKit();
  try {
    await fn(k);
  } finally {
    await k.close();
  }
}

async function syncTimelineBodies(k: InboundKit, token: string, roomId: string): Promise<string[]> {
  const res = await k.clientCall('GET', '/_matrix/client/v3/sync', token);
  assert.equal(res.status, 200);
  const events = (res.json.rooms?.join?.[roomId]?.timeline?.events ?? []) as Array<{ content: { body?: string } }>;
  return events.map((e) => e.content.body).filter((b): b is string => typeof b === 'string');
}

test('it should accept a valid remote message and show it in the local user’s /sync', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const msg = k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: 'hello from afar' } });
    const res = await k.ingest.ingestPdus(REMOTE, [msg.pdu]);
    assert.deepEqual(res.get(msg.eventId), {});
    assert.deepEqual(await syncTimelineBodies(k, alice.token, roomId), ['hello from afar']);
    const member = await k.rooms.reader.membership(roomId, k.remote.user('bob'));
    assert.equal(member?.membership, 'join');
  });
});

test('it should drop a PDU whose signature does not verify, and keep nothing of it', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const forged = k.remote.build(roomId, {
      type: 'm.room.message',
      sender: k.remote.user('bob'),
      content: { msgtype: 'm.text', body: 'forged' },
      signWith: generateSigningKey(),
    });
    const res = await k.ingest.ingestPdus(REMOTE, [forged.pdu]);
    assert.match(res.get(forged.eventId)?.error ?? '', /signature/);
    assert.equal(await k.rooms.reader.getEvent(forged.eventId), undefined);
  });
});

test('it should drop an event whose sender belongs to another server that did not sign it', async () => {
  await withKit(async (k) => {
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const spoof = k.remote.build(roomId, { type: 'm.room.message', sender: '@alice:us.test', content: { msgtype: 'm.text', body: 'I am alice' } });
    const res = await k.ingest.ingestPdus(REMOTE, [spoof.pdu]);
    assert.match(res.get(spoof.eventId)?.error ?? '', /signature of us\.test/);
    assert.equal(await k.rooms.reader.getEvent(spoof.eventId), undefined);
  });
});

test('it should keep only the redacted form of an event whose content hash does not match', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    const tampered = k.remote.build(roomId, {
      type: 'm.room.message',
      sender: k.remote.user('bob'),
      content: { msgtype: 'm.text', body: 'original' },
      corruptContentAfterSigning: { body: 'tampered in transit' },
    });
    const res = await k.ingest.ingestPdus(REMOTE, [tampered.pdu]);
    assert.deepEqual(res.get(tampered.eventId), {});
    const stored = await k.rooms.reader.getEvent(tampered.eventId);
    assert.deepEqual(stored?.pdu.content, {});
    assert.deepEqual(await syncTimelineBodies(k, alice.token, roomId), []);
  });
});

test('it should reject an event that breaks the auth rules, keep it out of the timeline and state, and say so', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    // bob has power 0 and may not change the power levels.
    const grab = k.remote.build(roomId, {
      type: 'm.room.power_levels',
      sender: k.remote.user('bob'),
      stateKey: '',
      content: { users: { [k.remote.user('bob')]: 100 } },
    });
    const res = await k.ingest.ingestPdus(REMOTE, [grab.pdu]);
    assert.match(res.get(grab.eventId)?.error ?? '', /rejected/);
    const stored = await k.rooms.reader.getEvent(grab.eventId);
    assert.ok(stored?.rejected, 'stored as rejected so it is never fetched again');
    const pl = await k.rooms.reader.currentStateEvent(roomId, 'm.room.power_levels', '');
    assert.notEqual(pl?.eventId, grab.eventId);
    // An event built on the rejected one is still judged by the state without it.
    const after = k.remote.build(roomId, {
      type: 'm.room.message',
      sender: k.remote.user('bob'),
      content: { msgtype: 'm.text', body: 'after' },
      authEvents: grab.pdu.auth_events,
    });
    assert.deepEqual((await k.ingest.ingestPdus(REMOTE, [after.pdu])).get(after.eventId), {});
    assert.deepEqual(await syncTimelineBodies(k, alice.token, roomId), ['after']);
  });
});

test('it should answer 404 to a client asking for a rejected remote event by ID', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    // carol never joined: her message breaks the auth rules and is stored only as rejected.
    const intruder = k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('carol'), content: { msgtype: 'm.text', body: 'never joined' } });
    assert.match((await k.ingest.ingestPdus(REMOTE, [intruder.pdu])).get(intruder.eventId)?.error ?? '', /rejected/);
    assert.ok((await k.rooms.reader.getEvent(intruder.eventId))?.rejected);
    await assert.rejects(k.rooms.queries.event(alice, roomId, intruder.eventId), (err: { errcode?: string }) => err.errcode === 'M_NOT_FOUND');
  });
});

test('it should soft-fail a message from a banned user built on the state before the ban', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    const bobJoin = await k.joinRemote(roomId, 'bob');
    const bob = k.remote.user('bob');
    await k.rooms.membership.ban(alice.userId, roomId, bob, 'spam');
    // bob's server pretends not to have seen the ban: its message follows bob's join.
    const evasive = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'evading' }, prevEvents: [bobJoin.eventId] });
    const res = await k.ingest.ingestPdus(REMOTE, [evasive.pdu]);
    assert.deepEqual(res.get(evasive.eventId), {});
    const stored = await k.rooms.reader.getEvent(evasive.eventId);
    assert.equal(stored?.softFailed, true);
    assert.deepEqual(await syncTimelineBodies(k, alice.token, roomId), []);
    // Not built upon: our next event does not reference it.
    const next = await k.rooms.events.send(alice, roomId, 'm.room.message', 't1', { msgtype: 'm.text', body: 'next' });
    assert.ok(!(await k.rooms.reader.getEvent(next))?.pdu.prev_events.includes(evasive.eventId));
  });
});

// Room versions 1 and 2 reference events by [id, hash] pairs on the wire: the fetched events carry them too.
for (const version of ['12', '1']) {
  test(`it should fetch unknown prev_events with get_missing_events before accepting the event (room version ${version})`, async () => {
    await withKit(async (k) => {
      const alice = k.local('alice');
      const roomId = await k.createRoom('alice', version);
      await k.joinRemote(roomId, 'bob');
      const bob = k.remote.user('bob');
      const m1 = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'one' } });
      const m2 = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'two' } });
      const m3 = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'three' } });
      const res = await k.ingest.ingestPdus(REMOTE, [m3.pdu]);
      assert.deepEqual(res.get(m3.eventId), {});
      const gme = k.remote.calls.find((c) => c.path.includes('/get_missing_events/'));
      assert.ok(gme, 'get_missing_events was called');
      assert.deepEqual((gme.body as { latest_events: string[] }).latest_events, [m3.eventId]);
      assert.ok(await k.rooms.reader.getEvent(m1.eventId));
      assert.ok(await k.rooms.reader.getEvent(m2.eventId));
      assert.deepEqual(await syncTimelineBodies(k, alice.token, roomId), ['one', 'two', 'three']);
    });
  });

  test(`it should fall back to the state at the gap (state_ids) when get_missing_events cannot close it (room version ${version})`, async () => {
    await withKit(async (k) => {
      const alice = k.local('alice');
      const roomId = await k.createRoom('alice', version);
      await k.joinRemote(roomId, 'bob');
      const bob = k.remote.user('bob');
      await k.rooms.events.setState(alice, roomId, 'm.room.power_levels', '', { users: { [bob]: 50 } });
      await k.teachRemote(roomId);
      for (let i = 0; i < 15; i++) k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: `gap ${i}` } });
      const topic = k.remote.build(roomId, { type: 'm.room.topic', sender: bob, stateKey: '', content: { topic: 'set in the gap' } });
      k.remote.override((req) => (req.path.includes('/get_missing_events/') ? { ok: true, status: 200, body: { events: [] } } : undefined));
      const last = k.remote.build(roomId, { type: 'm.room.message', sender: bob, content: { msgtype: 'm.text', body: 'after the gap' } });
      const res = await k.ingest.ingestPdus(REMOTE, [last.pdu]);
      assert.deepEqual(res.get(last.eventId), {});
      assert.ok(k.remote.calls.some((c) => c.path.includes('/state_ids/')), 'state_ids was called');
      const topicNow = await k.rooms.reader.currentStateEvent(roomId, 'm.room.topic', '');
      assert.equal(topicNow?.eventId, topic.eventId);
      assert.equal((await k.rooms.reader.getEvent(topic.eventId))?.outlier, true);
    });
  });
}

test('it should resolve two concurrent topic changes by state resolution, the same whichever arrives first', async () => {
  const outcome: string[] = [];
  for (const order of [0, 1]) {
    await withKit(async (k) => {
      const alice = k.local('alice');
      const roomId = await k.createRoom('alice');
      await k.joinRemote(roomId, 'bob');
      // Give bob the power to set the topic, then fork: alice (here) and bob (there) both change it.
      await k.rooms.events.setState(alice, roomId, 'm.room.power_levels', '', {
        users: { [k.remote.user('bob')]: 50 },
        events: { 'm.room.topic': 50 },
      });
      await k.teachRemote(roomId);
      const fork = (await k.rooms.reader.forwardExtremities(roomId)).map((x) => x.eventId);
      const ours = await k.rooms.events.setState(alice, roomId, 'm.room.topic', '', { topic: 'alice topic' });
      const theirs = k.remote.build(roomId, {
        type: 'm.room.topic',
        sender: k.remote.user('bob'),
        stateKey: '',
        content: { topic: 'bob topic' },
        prevEvents: fork,
      });
      await k.teachRemote(roomId);
      const merge = k.remote.build(roomId, {
        type: 'm.room.message',
        sender: k.remote.user('bob'),
        content: { msgtype: 'm.text', body: 'merged' },
        prevEvents: order === 0 ? [theirs.eventId, ours] : [ours, theirs.eventId],
      });
      const res = await k.ingest.ingestPdus(REMOTE, [theirs.pdu, merge.pdu]);
      assert.deepEqual(res.get(theirs.eventId), {});
      assert.deepEqual(res.get(merge.eventId), {});
      const extremities = await k.rooms.reader.forwardExtremities(roomId);
      assert.deepEqual(extremities.map((x) => x.eventId), [merge.eventId]);
      const current = await k.rooms.reader.currentState(roomId);
      const winner = current.get(stateKeyOf('m.room.topic', ''));
      assert.ok(winner === ours || winner === theirs.eventId);
      outcome.push((await k.rooms.reader.getEvent(winner!))!.pdu.content.topic as string);
    });
  }
  assert.equal(outcome[0], outcome[1], 'the resolved topic does not depend on arrival order');
});

test('it should ignore PDUs from an origin the room’s server ACL denies', async () => {
  await withKit(async (k) => {
    const alice = k.local('alice');
    const roomId = await k.createRoom('alice');
    await k.joinRemote(roomId, 'bob');
    await k.rooms.events.setState(alice, roomId, 'm.room.server_acl', '', { allow: ['*'], deny: [REMOTE] });
    await k.teachRemote(roomId);
    const msg = k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: 'denied' } });
    const res = await k.ingest.ingestPdus(REMOTE, [msg.pdu]);
    assert.match(res.get(msg.eventId)?.error ?? '', /ACL/);
    assert.equal(await k.rooms.reader.getEvent(msg.eventId), undefined);
  });
});

test('it should process the PDUs of different rooms in one transaction, each with its own result', async () => {
  await withKit(async (k) => {
    const r1 = await k.createRoom('alice');
    const r2 = await k.createRoom('alice', '10');
    await k.joinRemote(r1, 'bob');
    await k.joinRemote(r2, 'bob');
    const a = k.remote.build(r1, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: 'r1' } });
    const b = k.remote.build(r2, { type: 'm.room.message', sender: k.remote.user('bob'), content: { msgtype: 'm.text', body: 'r2' } });
    const res = await k.ingest.ingestPdus(REMOTE, [a.pdu, b.pdu, { nonsense: true }]);
    assert.deepEqual(res.get(a.eventId), {});
    assert.deepEqual(res.get(b.eventId), {});
    assert.equal(res.size, 2);
  });
});

test('it should make a remote room known from a send_join answer, with that state, and then take its new events', async () => {
  await withKit(async (k) => {
    const bea = k.local('bea');
    const { roomId, events } = k.remote.createRoom('12', 'owner');
    const join = k.remote.build(roomId, {
      type: 'm.room.member',
      sender: bea.userId,
      stateKey: bea.userId,
      content: { membership: 'join' },
      alsoSignedBy: [{ serverName: 'us.test', key: k.ourKey }],
    });
    const state = events.map((e) => e.pdu);
    const stored = await k.ingest.ingestJoinedRoom('12', join.pdu, state, state, REMOTE);
    assert.equal(stored.eventId, join.eventId);
    assert.equal((await k.rooms.reader.membership(roomId, bea.userId))?.membership, 'join');
    assert.equal((await k.rooms.reader.currentStateEvent(roomId, 'm.room.join_rules', ''))?.pdu.content.join_rule, 'public');
    const msg = k.remote.build(roomId, { type: 'm.room.message', sender: k.remote.user('owner'), content: { msgtype: 'm.text', body: 'welcome' } });
    assert.deepEqual((await k.ingest.ingestPdus(REMOTE, [msg.pdu])).get(msg.eventId), {});
    assert.deepEqual(await syncTimelineBodies(k, bea.token, roomId), ['welcome']);
  });
});
