import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact, redactContent } from './redaction.js';
import { roomVersion, type RoomVersionRules } from './roomVersions.js';
import type { JsonObject, Pdu } from './types.js';

const rules = (v: string) => roomVersion(v) as RoomVersionRules;
const keptIn = (v: string, type: string, content: JsonObject) => redactContent(type, content, rules(v));

const event = (type: string, content: JsonObject, extra: Partial<Pdu> = {}): Pdu => ({
  room_id: '!r:example.org',
  sender: '@alice:example.org',
  origin_server_ts: 1,
  type,
  state_key: '',
  content,
  prev_events: ['$p'],
  auth_events: ['$a'],
  depth: 5,
  hashes: { sha256: 'h' },
  signatures: { 'example.org': { 'ed25519:1': 's' } },
  unsigned: { age: 3 },
  ...extra,
});

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

test('it should strip all content of ordinary events and keep the essential top-level keys', () => {
  const ev = deepFreeze(event('m.room.message', { body: 'secret', msgtype: 'm.text' }, { custom: 'x' }));
  const r = redact(ev, rules('11'));
  assert.deepEqual(r, {
    room_id: '!r:example.org',
    sender: '@alice:example.org',
    origin_server_ts: 1,
    type: 'm.room.message',
    state_key: '',
    content: {},
    prev_events: ['$p'],
    auth_events: ['$a'],
    depth: 5,
    hashes: { sha256: 'h' },
    signatures: { 'example.org': { 'ed25519:1': 's' } },
  });
  assert.equal(ev.content.body, 'secret', 'input untouched');
});

test('it should keep m.room.aliases content up to v5 and drop it from v6', () => {
  const content = { aliases: ['#a:example.org'] };
  assert.deepEqual(keptIn('1', 'm.room.aliases', content), content);
  assert.deepEqual(keptIn('5', 'm.room.aliases', content), content);
  assert.deepEqual(keptIn('6', 'm.room.aliases', content), {});
});

test('it should keep join_authorised_via_users_server and the join rule allow list only from v9', () => {
  const member = { membership: 'join', join_authorised_via_users_server: '@bob:example.org', displayname: 'A' };
  assert.deepEqual(keptIn('8', 'm.room.member', member), { membership: 'join' });
  assert.deepEqual(keptIn('9', 'm.room.member', member), { membership: 'join', join_authorised_via_users_server: '@bob:example.org' });
  const joinRules = { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!s:x' }], other: 1 };
  assert.deepEqual(keptIn('8', 'm.room.join_rules', joinRules), { join_rule: 'restricted' });
  assert.deepEqual(keptIn('9', 'm.room.join_rules', joinRules), { join_rule: 'restricted', allow: joinRules.allow });
});

test('it should keep the power levels invite key only from v11', () => {
  const pl = { ban: 50, invite: 0, users: { '@a:x': 100 }, notifications: { room: 50 }, events: {} };
  assert.deepEqual(keptIn('10', 'm.room.power_levels', pl), { ban: 50, users: { '@a:x': 100 }, events: {} });
  assert.deepEqual(keptIn('11', 'm.room.power_levels', pl), { ban: 50, invite: 0, users: { '@a:x': 100 }, events: {} });
});

test('it should keep all create event content from v11 but only creator before', () => {
  const create = { creator: '@a:x', room_version: '10', 'm.federate': false, predecessor: { room_id: '!o:x' } };
  assert.deepEqual(keptIn('10', 'm.room.create', create), { creator: '@a:x' });
  assert.deepEqual(keptIn('11', 'm.room.create', create), create);
  const v12 = { room_version: '12', additional_creators: ['@b:x'] };
  assert.deepEqual(keptIn('12', 'm.room.create', v12), v12);
});

test('it should keep redacts of a redaction event only from v11, where it lives in content', () => {
  const ev = event('m.room.redaction', { redacts: '$target', reason: 'spam' }, { redacts: '$target', state_key: undefined });
  const old = redact(ev, rules('10'));
  assert.equal(old.redacts, undefined, 'v1–v10 do not protect top-level redacts');
  assert.deepEqual(old.content, {});
  assert.deepEqual(redact(ev, rules('11')).content, { redacts: '$target' });
});

test('it should keep origin, membership and prev_state at top level until v10 and drop them from v11', () => {
  const ev = event('m.room.member', { membership: 'join' }, { origin: 'example.org', membership: 'join', prev_state: [] });
  const v10 = redact(ev, rules('10'));
  assert.equal(v10.origin, 'example.org');
  assert.equal(v10.membership, 'join');
  assert.deepEqual(v10.prev_state, []);
  const v11 = redact(ev, rules('11'));
  assert.equal('origin' in v11 || 'membership' in v11 || 'prev_state' in v11, false);
});

test('it should keep only the signed part of a third-party invite from v11', () => {
  const signed = { mxid: '@c:x', token: 't', signatures: {} };
  const member = { membership: 'invite', third_party_invite: { display_name: 'Carol', signed } };
  assert.deepEqual(keptIn('10', 'm.room.member', member), { membership: 'invite' });
  assert.deepEqual(keptIn('11', 'm.room.member', member), { membership: 'invite', third_party_invite: { signed } });
  assert.deepEqual(keptIn('12', 'm.room.member', { membership: 'invite', third_party_invite: { display_name: 'C' } }), {
    membership: 'invite',
  });
});

test('it should keep a v12 create event without room_id as it is', () => {
  const create = event('m.room.create', { room_version: '12' }, { room_id: undefined });
  const r = redact(create, rules('12'));
  assert.equal('room_id' in r, false);
  assert.deepEqual(r.content, { room_version: '12' });
});

test('it should keep event_id for v1 events', () => {
  assert.equal(redact(event('m.room.message', {}, { event_id: '$e:example.org' }), rules('1')).event_id, '$e:example.org');
});
