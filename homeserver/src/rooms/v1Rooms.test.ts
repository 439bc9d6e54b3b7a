// Room versions 1 and 2 built by this server: random `$id:server` event IDs, and
// prev_events/auth_events held as bare IDs with the reference hashes that the signed wire form pairs them with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { referenceHashObject } from '@parley/federation/core/eventRefs';
import { hasValidContentHash } from '@parley/federation/core/hashes';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { signingKeyFromSeed } from '@parley/federation/signing/ed25519Key';
import { verifyEventSignature } from '@parley/federation/signing/signEvent';
import { federationPdu } from '../federation/serve/roomEventsAdapter.js';
import { parsePdu } from '../federation/ingest/receivedPdu.js';
import { creatableRoomVersion } from './createRoom.js';
import { openTestRooms, requester, SERVER, user } from './testing.js';
import type { StoredEvent } from './types.js';

// The key openTestRooms signs with.
const key = signingKeyFromSeed('ed25519:test', Buffer.alloc(32, 7));

for (const version of ['1', '2']) {
  test(`it should build v${version} events with server-named IDs and signed [ID, reference hash] pairs`, async () => {
    const t = await openTestRooms();
    try {
      const rules = roomVersion(version) as RoomVersionRules;
      const { room_id: roomId } = await t.rooms.creator.createRoom(requester('alice'), { preset: 'public_chat', room_version: version });
      await t.rooms.membership.join(user('bob'), roomId);
      const msg = await t.rooms.events.send(requester('bob'), roomId, 'm.room.message', 't1', { msgtype: 'm.text', body: 'hi' });
      const redaction = await t.rooms.events.redact(requester('bob'), roomId, msg, 't2', 'oops');

      const timeline = await t.rooms.reader.timeline(roomId, { dir: 'f', limit: 100 });
      assert.ok(timeline.length >= 7, 'create, member, power levels, rules…, join, message, redaction');
      const byId = new Map(timeline.map((e) => [e.eventId, e]));
      for (const e of timeline) {
        assert.match(e.eventId, new RegExp(`^\\$[^:]+:${SERVER.replace('.', '\\.')}$`));
        assert.equal(e.pdu.event_id, e.eventId);
        // Held with bare IDs; each reference paired with the referenced event's reference hash.
        assert.ok(e.pdu.auth_events.every((id) => typeof id === 'string' && byId.has(id)));
        assert.deepEqual(e.refHashes?.prev, e.pdu.prev_events.map((id) => referenceHashObject(byId.get(id)!, rules)));
        assert.deepEqual(e.refHashes?.auth, e.pdu.auth_events.map((id) => referenceHashObject(byId.get(id)!, rules)));
        // What goes over federation carries the pairs, verifies, and parses back to what we hold.
        const wire = federationPdu(e);
        if (e.pdu.prev_events.length > 0) assert.ok(Array.isArray(wire.prev_events[0]), 'v1/v2 references are pairs on the wire');
        assert.ok(verifyEventSignature(wire, rules, SERVER, key.keyId, key.publicKey), `signature of ${e.pdu.type}`);
        if (e.redactedBy === undefined) assert.ok(hasValidContentHash(wire), `content hash of ${e.pdu.type}`);
        const parsed = parsePdu(JSON.parse(JSON.stringify(wire)), rules);
        assert.ok(parsed.ok);
        assert.equal(parsed.event.eventId, e.eventId);
        assert.deepEqual(parsed.event.pdu.prev_events, e.pdu.prev_events);
        assert.deepEqual(parsed.event.refHashes, e.refHashes);
      }
      // v1/v2 keep `redacts` at the top level; the redaction applied.
      const red = byId.get(redaction) as StoredEvent;
      assert.equal(red.pdu.redacts, msg);
      assert.deepEqual((byId.get(msg) as StoredEvent).pdu.content, {});
      assert.equal((await t.rooms.reader.currentStateEvent(roomId, 'm.room.create', ''))?.pdu.content.room_version, version);
    } finally {
      await t.dispose();
    }
  });
}

test('it should list room versions 1 and 2 among the versions new rooms may use', () => {
  assert.equal(creatableRoomVersion('1')?.id, '1');
  assert.equal(creatableRoomVersion('2')?.id, '2');
  assert.equal(creatableRoomVersion('999'), undefined);
});
