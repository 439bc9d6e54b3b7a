import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { MAX_PDU_BYTES, checkPduFormat, checkPduFormatKeepingContent } from './pduFormat.js';
import { canonicalJson } from './canonicalJson.js';
import { contentHash } from './hashes.js';
import { roomVersion, type RoomVersionRules } from './roomVersions.js';
import type { Pdu } from './types.js';

const rules = (v: string) => roomVersion(v) as RoomVersionRules;
const ID = '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
const V12_ROOM = '!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ';

const message = (extra: Record<string, unknown> = {}): Pdu =>
  ({
    room_id: '!room:example.org',
    sender: '@alice:example.org',
    origin_server_ts: 1700000000000,
    type: 'm.room.message',
    content: { body: 'hi', msgtype: 'm.text' },
    prev_events: [ID],
    auth_events: [ID, ID.replace('R', 'S')],
    depth: 7,
    hashes: { sha256: 'aGFzaA' },
    signatures: { 'example.org': { 'ed25519:a': 'c2ln' } },
    unsigned: { age: 10 },
    ...extra,
  }) as Pdu;

test('it should accept well-formed events for v1, v11 and v12', () => {
  assert.equal(checkPduFormat(message(), rules('11')), undefined);
  assert.equal(checkPduFormat(message({ room_id: V12_ROOM }), rules('12')), undefined);
  const create = message({ type: 'm.room.create', state_key: '', content: { room_version: '12' }, prev_events: [], auth_events: [] });
  delete create.room_id;
  assert.equal(checkPduFormat(create, rules('12')), undefined);
  const v1 = message({
    event_id: '$abc:example.org',
    prev_events: [['$p:example.org', { sha256: 'aGFzaA' }]],
    auth_events: [],
  });
  assert.equal(checkPduFormat(v1, rules('1')), undefined);
});

test('it should reject things that are not objects and events missing required fields', () => {
  for (const notObject of [null, [], 'pdu', 5]) assert.match(checkPduFormat(notObject, rules('11')) ?? '', /object/);
  for (const field of ['type', 'sender', 'origin_server_ts', 'content', 'room_id', 'depth', 'prev_events', 'auth_events', 'hashes', 'signatures']) {
    const ev: Record<string, unknown> = message();
    delete ev[field];
    assert.notEqual(checkPduFormat(ev, rules('11')), undefined, field);
  }
  const v1NoId = message({ prev_events: [['$p:example.org', { sha256: 'aGFzaA' }]], auth_events: [] });
  assert.match(checkPduFormat(v1NoId, rules('1')) ?? '', /event_id/);
});

test('it should reject fields of the wrong JSON type', () => {
  const wrong: Record<string, unknown>[] = [
    { type: 5 },
    { state_key: 0 },
    { sender: ['@alice:example.org'] },
    { origin_server_ts: '1700000000000' },
    { content: [] },
    { depth: '7' },
    { prev_events: ID },
    { auth_events: [5] },
    { hashes: { sha256: 5 } },
    { hashes: {} },
    { signatures: { 'example.org': 'sig' } },
    { signatures: { 'example.org': { 'ed25519:a': 1 } } },
    { unsigned: 'x' },
    { redacts: 5 },
  ];
  for (const extra of wrong) assert.notEqual(checkPduFormat(message(extra), rules('10')), undefined, JSON.stringify(extra));
});

test('it should reject malformed identifiers', () => {
  assert.match(checkPduFormat(message({ sender: 'alice' }), rules('11')) ?? '', /sender/);
  assert.match(checkPduFormat(message({ room_id: 'room' }), rules('11')) ?? '', /room_id/);
  assert.match(checkPduFormat(message({ prev_events: ['$abc:example.org'] }), rules('11')) ?? '', /event/);
  // A v1 event must use [id, hash] pairs, not bare IDs.
  assert.match(checkPduFormat(message({ event_id: '$e:x.org', prev_events: ['$p:x.org'] }), rules('1')) ?? '', /pairs/);
});

test('it should enforce the room ID rules of v12', () => {
  const create = message({ type: 'm.room.create', state_key: '', room_id: V12_ROOM, prev_events: [], auth_events: [] });
  assert.match(checkPduFormat(create, rules('12')) ?? '', /absent/);
  assert.match(checkPduFormat(message(), rules('12')) ?? '', /room_id/);
  const roomless = message();
  delete roomless.room_id;
  assert.match(checkPduFormat(roomless, rules('12')) ?? '', /room_id/);
});

test('it should enforce depth bounds: non-negative, and ≤ 2^53−1 from v6', () => {
  assert.match(checkPduFormat(message({ depth: -1 }), rules('11')) ?? '', /depth/);
  assert.match(checkPduFormat(message({ depth: 1.5 }), rules('11')) ?? '', /depth/);
  assert.match(checkPduFormat(message({ depth: 2 ** 53 }), rules('6')) ?? '', /depth/);
  assert.equal(checkPduFormat(message({ depth: 2 ** 53 }), rules('5')), undefined);
  assert.equal(checkPduFormat(message({ depth: Number.MAX_SAFE_INTEGER }), rules('6')), undefined);
});

test('it should reject too many prev_events or auth_events', () => {
  const ids = (n: number) => Array.from({ length: n }, () => ID);
  assert.equal(checkPduFormat(message({ prev_events: ids(20), auth_events: ids(10) }), rules('11')), undefined);
  assert.match(checkPduFormat(message({ prev_events: ids(21) }), rules('11')) ?? '', /too many/);
  assert.match(checkPduFormat(message({ auth_events: ids(11) }), rules('11')) ?? '', /too many/);
});

test('it should reject type and state_key over 255 bytes', () => {
  assert.equal(checkPduFormat(message({ type: 'x'.repeat(255), state_key: 'y'.repeat(255) }), rules('11')), undefined);
  assert.match(checkPduFormat(message({ type: 'x'.repeat(256) }), rules('11')) ?? '', /type/);
  // 128 two-byte characters: 128 code units but 256 bytes.
  assert.match(checkPduFormat(message({ state_key: '\u00e9'.repeat(128) }), rules('11')) ?? '', /state_key/);
});

test('it should reject events over 65536 bytes of canonical JSON, signatures included', () => {
  const base = Buffer.byteLength(canonicalJson(message({ content: { body: '' } })));
  const atLimit = message({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base) } });
  assert.equal(checkPduFormat(atLimit, rules('11')), undefined);
  const over = message({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base + 1) } });
  assert.match(checkPduFormat(over, rules('11')) ?? '', /65536/);
  const bigSigs = message({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base - 10) }, signatures: { 'example.org': { 'ed25519:a': 'c2ln'.repeat(10) } } });
  assert.match(checkPduFormat(bigSigs, rules('11')) ?? '', /65536/);
});

test('it should measure the whole event at the byte, whichever unhashed members it carries', () => {
  const withoutUnsigned = (extra: Record<string, unknown>) => {
    const pdu = message(extra);
    delete pdu.unsigned;
    return pdu;
  };
  const shapes: Array<(extra: Record<string, unknown>) => Pdu> = [
    message,
    withoutUnsigned,
    (extra) => message({ unsigned: { note: '\u00e9\u{1F600}'.repeat(40) }, ...extra }),
  ];
  for (const shape of shapes) {
    const base = Buffer.byteLength(canonicalJson(shape({ content: { body: '' } })));
    assert.equal(checkPduFormat(shape({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base) } }), rules('11')), undefined);
    assert.match(checkPduFormat(shape({ content: { body: 'a'.repeat(MAX_PDU_BYTES - base + 1) } }), rules('11')) ?? '', /65537 bytes/);
  }
  // What is not hashed is still checked as canonical JSON.
  assert.match(checkPduFormat(message({ unsigned: { age: 1.5 } }), rules('11')) ?? '', /canonical/);
});

test('it should hand back the encoding the content hash is computed over', () => {
  const pdu = message({ content: { body: 'h\u00e9llo', n: 3 } });
  const { problem, contentJson } = checkPduFormatKeepingContent(pdu, rules('11'));
  assert.equal(problem, undefined);
  assert.equal(createHash('sha256').update(contentJson ?? '', 'utf8').digest('base64').replace(/=+$/, ''), contentHash(pdu));
  assert.equal(checkPduFormatKeepingContent(message({ depth: 'x' }), rules('11')).contentJson, undefined);
});

test('it should reject floats everywhere, and out-of-range integers only from v6', () => {
  assert.match(checkPduFormat(message({ content: { n: 1.5 } }), rules('4')) ?? '', /canonical/);
  assert.match(checkPduFormat(message({ content: { n: 2 ** 60 } }), rules('6')) ?? '', /canonical/);
  assert.equal(checkPduFormat(message({ content: { n: 2 ** 60 } }), rules('5')), undefined);
});
