import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import { ALICE, BOB, CAROL, DAVE, fixture } from './fixtures.js';
import {
  canSendEvent,
  notificationPowerLevel,
  parsePowerLevels,
  parsePowerLevelValue,
  requiredPowerForEvent,
  userPowerLevel,
} from './powerLevels.js';

const rules = (v: string): RoomVersionRules => roomVersion(v)!;

test('it should fill the specified defaults for missing power level properties', () => {
  const pl = parsePowerLevels({}, rules('11'));
  assert.deepEqual(pl.levels, { users_default: 0, events_default: 0, state_default: 50, ban: 50, redact: 50, kick: 50, invite: 0 });
  assert.equal(pl.notifications.get('room'), 50);
  assert.equal(pl.users.size, 0);
});

test('it should read integer-valued strings before v10 but not from v10', () => {
  for (const s of ['50', ' +050 ', '-7', '0100']) {
    assert.equal(typeof parsePowerLevelValue(s, rules('9')), 'number', s);
    assert.equal(parsePowerLevelValue(s, rules('10')), undefined, s);
  }
  assert.equal(parsePowerLevelValue(' +050 ', rules('9')), 50);
  assert.equal(parsePowerLevelValue('-7', rules('1')), -7);
  for (const bad of ['5.5', '1e3', '', '+-1', 'fifty', '- 1']) assert.equal(parsePowerLevelValue(bad, rules('9')), undefined, bad);
});

test('it should truncate floats only in versions without canonical JSON', () => {
  assert.equal(parsePowerLevelValue(50.57, rules('5')), 50);
  assert.equal(parsePowerLevelValue(-0.5, rules('1')), 0);
  assert.equal(parsePowerLevelValue(50.57, rules('6')), undefined);
  assert.equal(parsePowerLevelValue(Infinity, rules('1')), undefined);
  assert.equal(parsePowerLevelValue(true, rules('1')), undefined);
});

test('it should fall back to defaults for values the room version does not accept', () => {
  const pl = parsePowerLevels({ ban: '75', users: { [BOB]: '10', [CAROL]: 20 } }, rules('10'));
  assert.equal(pl.levels.ban, 50);
  assert.equal(pl.users.has(BOB), false);
  assert.equal(pl.users.get(CAROL), 20);
  assert.equal(parsePowerLevels({ ban: '75' }, rules('9')).levels.ban, 75);
});

test('it should give the creator 100 and everyone else 0 when there is no power levels event (v1–v11)', () => {
  for (const v of ['1', '10', '11']) {
    const fx = fixture(v);
    const state = fx.state(fx.room({ noPowerLevels: true }));
    assert.equal(userPowerLevel(ALICE, state, fx.rules), 100, `v${v}`);
    assert.equal(userPowerLevel(BOB, state, fx.rules), 0, `v${v}`);
  }
});

test('it should make v12 creators, including additional creators, infinitely powerful', () => {
  const fx = fixture('12', { additional_creators: [DAVE] });
  const withPl = fx.state(fx.room({ users: { [BOB]: 100 }, levels: { users_default: 5 } }));
  assert.equal(userPowerLevel(ALICE, withPl, fx.rules), Infinity);
  assert.equal(userPowerLevel(DAVE, withPl, fx.rules), Infinity);
  assert.equal(userPowerLevel(BOB, withPl, fx.rules), 100);
  assert.equal(userPowerLevel(CAROL, withPl, fx.rules), 5);
  const noPl = fx.state(fx.room({ noPowerLevels: true }));
  assert.equal(userPowerLevel(ALICE, noPl, fx.rules), Infinity);
  assert.equal(userPowerLevel(CAROL, noPl, fx.rules), 0);
});

test('it should use the users entry, else users_default, when power levels exist', () => {
  const fx = fixture('11');
  const state = fx.state(fx.room({ users: { [BOB]: 42 }, levels: { users_default: 3 } }));
  assert.equal(userPowerLevel(BOB, state, fx.rules), 42);
  assert.equal(userPowerLevel(CAROL, state, fx.rules), 3);
});

test('it should require events levels, else state_default for state and events_default for messages', () => {
  const fx = fixture('12');
  const state = fx.state(fx.room({ levels: { events: { 'm.room.topic': 10 }, state_default: 60, events_default: 1 } }));
  assert.equal(requiredPowerForEvent('m.room.topic', true, state, fx.rules), 10);
  assert.equal(requiredPowerForEvent('m.room.name', true, state, fx.rules), 60);
  assert.equal(requiredPowerForEvent('m.room.message', false, state, fx.rules), 1);
  const bare = fx.state([]);
  assert.equal(requiredPowerForEvent('m.room.name', true, bare, fx.rules), 50);
  assert.equal(requiredPowerForEvent('m.room.message', false, bare, fx.rules), 0);
});

test('it should tell whether a user may send an event type', () => {
  const fx = fixture('11');
  const state = fx.state(fx.room({ users: { [BOB]: 50 } }));
  assert.equal(canSendEvent(BOB, 'm.room.name', true, state, fx.rules), true);
  assert.equal(canSendEvent(CAROL, 'm.room.name', true, state, fx.rules), false);
  assert.equal(canSendEvent(CAROL, 'm.room.message', false, state, fx.rules), true);
});

test('it should default the @room notification level to 50', () => {
  const fx = fixture('11');
  assert.equal(notificationPowerLevel('room', fx.state(fx.room()), fx.rules), 50);
  assert.equal(notificationPowerLevel('room', fx.state(fx.room({ levels: { notifications: { room: 20 } } })), fx.rules), 20);
});

test('it should parse one content object afresh for a room version that reads it differently', () => {
  const content = { ban: '75', users: { [BOB]: '10' } };
  assert.equal(parsePowerLevels(content, rules('9')).levels.ban, 75);
  assert.equal(parsePowerLevels(content, rules('10')).levels.ban, 50, 'v10 ignores stringy levels');
  assert.equal(parsePowerLevels(content, rules('9')).users.get(BOB), 10);
});

test('it should give a new power levels event its own levels, not the previous one’s', () => {
  const before = { users: { [BOB]: 50 } };
  assert.equal(parsePowerLevels(before, rules('11')).users.get(BOB), 50);
  const after = { ...before, users: { [BOB]: 0 } };
  assert.equal(parsePowerLevels(after, rules('11')).users.get(BOB), 0);
  assert.equal(parsePowerLevels(before, rules('11')).users.get(BOB), 50);
});

test('it should not let one caller change the levels another caller reads', () => {
  const content = { kick: 60 };
  const first = parsePowerLevels(content, rules('11'));
  assert.throws(() => {
    (first.levels as Record<string, number>).kick = 0;
  }, TypeError);
  assert.equal(parsePowerLevels(content, rules('11')).levels.kick, 60);
});
