import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import { authEventTypesFor } from './authEventsSelection.js';
import { ALICE, BOB, fixture } from './fixtures.js';

const rules = (v: string): RoomVersionRules => roomVersion(v)!;
const sorted = (pairs: Array<[string, string]>): string[] => pairs.map(([t, k]) => `${t}|${k}`).sort();

test('it should select create, power levels and the sender member for a message before v12', () => {
  const fx = fixture('11');
  const ev = fx.event({ type: 'm.room.message', sender: BOB, content: {} });
  assert.deepEqual(sorted(authEventTypesFor(ev.pdu, rules('11'))), [
    'm.room.create|',
    `m.room.member|${BOB}`,
    'm.room.power_levels|',
  ]);
});

test('it should never select the create event in v12', () => {
  const fx = fixture('12');
  const ev = fx.event({ type: 'm.room.message', sender: BOB, content: {} });
  assert.deepEqual(sorted(authEventTypesFor(ev.pdu, rules('12'))), [`m.room.member|${BOB}`, 'm.room.power_levels|']);
});

test('it should select nothing for the create event', () => {
  assert.deepEqual(authEventTypesFor(fixture('10').create.pdu, rules('10')), []);
});

test('it should add the target member and join rules for a join, listing the sender once', () => {
  const fx = fixture('10');
  assert.deepEqual(sorted(authEventTypesFor(fx.member(BOB, 'join').pdu, rules('10'))), [
    'm.room.create|',
    'm.room.join_rules|',
    `m.room.member|${BOB}`,
    'm.room.power_levels|',
  ]);
});

test('it should add the target member but not join rules for a kick', () => {
  const fx = fixture('12');
  assert.deepEqual(sorted(authEventTypesFor(fx.member(BOB, 'leave', ALICE).pdu, rules('12'))), [
    `m.room.member|${ALICE}`,
    `m.room.member|${BOB}`,
    'm.room.power_levels|',
  ]);
});

test('it should add the third-party invite named by the signed token', () => {
  const fx = fixture('12');
  const ev = fx.member(BOB, 'invite', ALICE, { third_party_invite: { display_name: 'b', signed: { mxid: BOB, token: 'abc' } } });
  assert.ok(sorted(authEventTypesFor(ev.pdu, rules('12'))).includes('m.room.third_party_invite|abc'));
  assert.ok(sorted(authEventTypesFor(ev.pdu, rules('12'))).includes('m.room.join_rules|'));
});

test("it should add the authorising user's member event for restricted joins from v8 only", () => {
  const content = { join_authorised_via_users_server: '@mod:c.example' };
  const v8 = fixture('8').member(BOB, 'join', BOB, content);
  const v7 = fixture('7').member(BOB, 'join', BOB, content);
  assert.ok(sorted(authEventTypesFor(v8.pdu, rules('8'))).includes('m.room.member|@mod:c.example'));
  assert.ok(!sorted(authEventTypesFor(v7.pdu, rules('7'))).includes('m.room.member|@mod:c.example'));
});

test('it should select join rules for knocks from v7', () => {
  const knock = fixture('7').member(BOB, 'knock');
  assert.ok(sorted(authEventTypesFor(knock.pdu, rules('7'))).includes('m.room.join_rules|'));
});
