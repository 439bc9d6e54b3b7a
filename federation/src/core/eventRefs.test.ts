import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './canonicalJson.js';
import { referenceHash } from './eventId.js';
import { fromWire, newV1EventId, referenceHashObject, toWire } from './eventRefs.js';
import { checkPduFormat } from './pduFormat.js';
import { roomVersion, type RoomVersionRules } from './roomVersions.js';
import type { Pdu } from './types.js';

const rules = (v: string) => roomVersion(v) as RoomVersionRules;

/** A v1 PDU as it arrives over federation, with [ID, hashes] pairs. */
const wireV1 = (): Pdu =>
  ({
    event_id: '$msg:hr.example',
    room_id: '!room:hr.example',
    type: 'm.room.message',
    sender: '@a:hr.example',
    content: { body: 'hi' },
    origin_server_ts: 1000,
    depth: 3,
    prev_events: [['$prev:hr.example', { sha256: 'cHJldg' }]],
    auth_events: [
      ['$create:hr.example', { sha256: 'Y3JlYXRl' }],
      ['$member:hr.example', { sha256: 'bWVtYmVy', extra: 'kept' }],
    ],
    hashes: { sha256: 'x' },
    signatures: {},
  }) as unknown as Pdu;

test('it should split v1 reference pairs into bare IDs and their hash objects, and rebuild the identical wire form', () => {
  const wire = wireV1();
  const { pdu, refHashes } = fromWire(wire, rules('1'));
  assert.deepEqual(pdu.prev_events, ['$prev:hr.example']);
  assert.deepEqual(pdu.auth_events, ['$create:hr.example', '$member:hr.example']);
  assert.deepEqual(refHashes, { prev: [{ sha256: 'cHJldg' }], auth: [{ sha256: 'Y3JlYXRl' }, { sha256: 'bWVtYmVy', extra: 'kept' }] });
  // Byte for byte what was signed, including hash keys we do not know.
  assert.equal(canonicalJson(toWire(pdu, refHashes) as never), canonicalJson(wire as never));
  assert.equal(checkPduFormat(toWire(pdu, refHashes), rules('2')), undefined);
});

test('it should leave v3+ PDUs and PDUs without reference hashes as they are', () => {
  const v3 = { ...wireV1(), prev_events: ['$abc'], auth_events: [] } as Pdu;
  assert.deepEqual(fromWire(v3, rules('3')), { pdu: v3 });
  assert.equal(toWire(v3, undefined), v3);
});

test('it should refuse to rebuild pairs when IDs and hashes differ in number', () => {
  const { pdu } = fromWire(wireV1(), rules('1'));
  assert.throws(() => toWire(pdu, { prev: [], auth: [] }), /differ in number/);
});

test('it should give the referenced event its reference hash in unpadded base64, and fresh v1 IDs with the server name', () => {
  const wire = wireV1();
  const expected = referenceHash(wire, rules('1')).toString('base64').replace(/=+$/, '');
  assert.deepEqual(referenceHashObject({ pdu: wire }, rules('1')), { sha256: expected });
  assert.deepEqual(referenceHashObject(fromWire(wire, rules('1')), rules('1')), { sha256: expected }, 'the same from the held form');
  const id = newV1EventId('hr.example:8448');
  assert.match(id, /^\$[A-Za-z0-9_-]+:hr\.example:8448$/);
  assert.notEqual(newV1EventId('hr.example'), newV1EventId('hr.example'));
});
