import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toClientEvent } from '../events/clientEvent.js';
import { MatrixError } from '../http/errors.js';
import { openTestRooms, requester, user } from './testing.js';

test('it should make PUT /send idempotent per device: a retry returns the same event, another device makes a new one', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    const phone = requester('alice', 'PHONE');
    const laptop = requester('alice', 'LAPTOP');
    const [a, b] = await Promise.all([
      t.rooms.events.send(phone, roomId, 'm.room.message', 'txn1', { body: 'once' }),
      t.rooms.events.send(phone, roomId, 'm.room.message', 'txn1', { body: 'once' }),
    ]);
    assert.equal(a, b, 'concurrent retries of one transaction give one event');
    const c = await t.rooms.events.send(laptop, roomId, 'm.room.message', 'txn1', { body: 'once' });
    assert.notEqual(c, a, 'the same txn ID from another device is another transaction');
    const d = await t.rooms.events.send(phone, roomId, 'm.reaction', 'txn1', { body: 'other endpoint' });
    assert.notEqual(d, a, 'the same txn ID for another event type is another request');
    const bodies = (await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 })).filter((e) => e.pdu.type === 'm.room.message');
    assert.equal(bodies.length, 2);

    // transaction_id is shown to the sending device only.
    const ev = (await t.rooms.reader.getEvent(a))!;
    assert.equal(toClientEvent(ev, phone, Date.now()).unsigned.transaction_id, 'txn1');
    assert.equal(toClientEvent(ev, laptop, Date.now()).unsigned.transaction_id, undefined);
  } finally {
    await t.dispose();
  }
});

test('it should give a retry that arrives while the first request is being written the first request’s event', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    const phone = requester('alice', 'PHONE');
    const sends: Array<Promise<string>> = [];
    // Retries spread over the first one's write: some queue behind it, some come as it lands.
    for (let i = 0; i < 12; i++) {
      sends.push(t.rooms.events.send(phone, roomId, 'm.room.message', 'txn-retried', { body: 'once' }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const ids = new Set(await Promise.all(sends));
    assert.equal(ids.size, 1);
    const bodies = (await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 })).filter((e) => e.pdu.type === 'm.room.message');
    assert.equal(bodies.length, 1);
  } finally {
    await t.dispose();
  }
});

test('it should prune a redacted event in storage, link the redaction, and tell listeners', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat' });
    await t.rooms.membership.join(user('bob'), roomId);
    const secret = await t.rooms.events.send(requester('bob'), roomId, 'm.room.message', 's', { msgtype: 'm.text', body: 'hunter2' });

    // Another user without the redact level may not redact bob's message.
    await t.rooms.membership.join(user('carol'), roomId);
    await assert.rejects(
      t.rooms.events.redact(requester('carol'), roomId, secret, 'r0', 'no'),
      (err: unknown) => err instanceof MatrixError && err.status === 403 && err.errcode === 'M_FORBIDDEN',
    );
    const redactionId = await t.rooms.events.redact(requester('bob'), roomId, secret, 'r1', 'oops');
    const stored = (await t.rooms.reader.getEvent(secret))!;
    assert.deepEqual(stored.pdu.content, {});
    assert.equal(stored.redactedBy, redactionId);
    assert.ok(!JSON.stringify(stored).includes('hunter2'), 'the text is gone from storage');
    const client = toClientEvent(stored, requester('carol'), Date.now());
    assert.equal(client.unsigned.redacted_because?.event_id, redactionId);
    assert.equal(client.unsigned.redacted_because?.content.reason, 'oops');
    const redaction = toClientEvent((await t.rooms.reader.getEvent(redactionId))!, requester('carol'), Date.now());
    assert.equal(redaction.redacts, secret, 'redacts is also at the top level for clients');
    assert.ok(t.outputs.some((o) => o.kind === 'redaction' && o.redactedEventId === secret && o.redaction.eventId === redactionId));

    // The creator (redact level) may redact others' events, also through /send (v1.18).
    const other = await t.rooms.events.send(requester('carol'), roomId, 'm.room.message', 'c1', { body: 'spam' });
    await t.rooms.events.send(requester('alice'), roomId, 'm.room.redaction', 'r2', { redacts: other, reason: 'spam' });
    assert.deepEqual((await t.rooms.reader.getEvent(other))?.pdu.content, {});
    // A redaction of an event nobody has is still accepted (Synapse).
    const unknownTarget = '$' + 'A'.repeat(43);
    assert.ok(await t.rooms.events.redact(requester('bob'), roomId, unknownTarget, 'r3', undefined));
  } finally {
    await t.dispose();
  }
});

test('it should keep redacted state in force with only its protected keys, and keep prev_content of replaced state', async () => {
  const t = await openTestRooms();
  try {
    const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat', topic: 'first' });
    const second = await t.rooms.events.setState(requester('alice'), roomId, 'm.room.topic', '', { topic: 'second' });
    const ev = (await t.rooms.reader.getEvent(second))!;
    const client = toClientEvent(ev, requester('alice'), Date.now());
    assert.equal((client.unsigned.prev_content as { topic?: string }).topic, 'first');
    assert.equal(typeof client.unsigned.replaces_state, 'string');
    // Setting identical state again sends nothing new.
    assert.equal(await t.rooms.events.setState(requester('alice'), roomId, 'm.room.topic', '', { topic: 'second' }), second);

    const jr = await t.rooms.reader.currentStateEvent(roomId, 'm.room.join_rules', '');
    await t.rooms.events.redact(requester('alice'), roomId, jr!.eventId, 'r', undefined);
    const after = await t.rooms.reader.currentStateEvent(roomId, 'm.room.join_rules', '');
    assert.equal(after?.eventId, jr?.eventId, 'a redacted state event stays in the state');
    assert.deepEqual(after?.pdu.content, { join_rule: 'public' }, 'join_rule is protected by the redaction algorithm');
  } finally {
    await t.dispose();
  }
});
