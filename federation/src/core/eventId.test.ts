import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { eventIdOf, referenceHash, roomIdOf, roomIdOfCreateEvent } from './eventId.js';
import { roomVersion, type RoomVersionRules } from './roomVersions.js';
import { minimalEventSigned } from './specEvents.testdata.js';
import type { Pdu } from './types.js';

const rules = (v: string) => roomVersion(v) as RoomVersionRules;
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const unpad = (s: string) => s.replace(/=+$/, '');

// The spec's signed minimal event, redacted and stripped of signatures/unsigned, written out by
// hand: v1–v10 redaction keeps `origin`, v11 drops it.
const REDACTED_V1 =
  '{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","type":"X"}';
const REDACTED_V11 = REDACTED_V1.replace('"origin":"domain",', '');

test('it should compute the reference hash of the spec event over its redacted form', () => {
  assert.deepEqual(referenceHash(minimalEventSigned(), rules('4')), sha256(REDACTED_V1));
  assert.deepEqual(referenceHash(minimalEventSigned(), rules('11')), sha256(REDACTED_V11));
});

test('it should derive v4+ event IDs as $ + URL-safe base64 and v3 IDs with the standard alphabet', () => {
  // Depth 4 is chosen because this hash contains `+`, so the alphabets differ.
  const event: Pdu = { ...minimalEventSigned(), depth: 4 };
  const hash = sha256(REDACTED_V1.replace('"depth":3', '"depth":4'));
  assert.match(hash.toString('base64'), /\+/);
  assert.equal(eventIdOf(event, rules('3')), '$' + unpad(hash.toString('base64')));
  assert.equal(eventIdOf(event, rules('4')), '$' + hash.toString('base64url'));
  assert.equal(eventIdOf(event, rules('10')), eventIdOf(event, rules('4')));
});

test('it should give different event IDs in v10 and v11 because v11 no longer protects origin', () => {
  assert.equal(eventIdOf(minimalEventSigned(), rules('11')), '$' + sha256(REDACTED_V11).toString('base64url'));
  assert.notEqual(eventIdOf(minimalEventSigned(), rules('11')), eventIdOf(minimalEventSigned(), rules('10')));
});

test('it should not let unsigned data or extra signatures change the event ID', () => {
  const ev = minimalEventSigned();
  const moved: Pdu = { ...ev, unsigned: { age: 1 }, signatures: { ...ev.signatures, other: { 'ed25519:z': 'x' } } };
  assert.equal(eventIdOf(moved, rules('11')), eventIdOf(ev, rules('11')));
});

test('it should take v1 and v2 event IDs from the event itself', () => {
  assert.equal(eventIdOf({ ...minimalEventSigned(), event_id: '$abc:domain' }, rules('1')), '$abc:domain');
  assert.equal(eventIdOf({ ...minimalEventSigned(), event_id: '$def:domain' }, rules('2')), '$def:domain');
  assert.throws(() => eventIdOf(minimalEventSigned(), rules('1')));
});

const v12Create = (): Pdu => ({
  auth_events: [],
  content: { room_version: '12' },
  depth: 1,
  hashes: { sha256: 'abc' },
  origin_server_ts: 1700000000000,
  prev_events: [],
  sender: '@alice:example.org',
  signatures: { 'example.org': { 'ed25519:a': 'sig' } },
  state_key: '',
  type: 'm.room.create',
  unsigned: { age: 10 },
});

test('it should derive a v12 room ID as ! + the create event reference hash', () => {
  const expected = sha256(
    '{"auth_events":[],"content":{"room_version":"12"},"depth":1,"hashes":{"sha256":"abc"},"origin_server_ts":1700000000000,"prev_events":[],"sender":"@alice:example.org","state_key":"","type":"m.room.create"}',
  ).toString('base64url');
  const create = v12Create();
  assert.equal(roomIdOfCreateEvent(create, rules('12')), '!' + expected);
  assert.equal(eventIdOf(create, rules('12')), '$' + expected);
  assert.equal(roomIdOf(create, rules('12')), '!' + expected);
});

test('it should read room IDs from room_id for ordinary events and older versions', () => {
  const msg: Pdu = { ...v12Create(), type: 'm.room.message', state_key: undefined, room_id: '!abc' };
  assert.equal(roomIdOf(msg, rules('12')), '!abc');
  const oldCreate: Pdu = { ...v12Create(), room_id: '!r:example.org' };
  assert.equal(roomIdOfCreateEvent(oldCreate, rules('11')), '!r:example.org');
  // A pre-v12 create event without room_id names no room.
  assert.equal(roomIdOf(v12Create(), rules('11')), undefined);
  assert.throws(() => roomIdOfCreateEvent(v12Create(), rules('11')));
});
