import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import { ALICE, BOB, CAROL, type EventSpec, RoomFixture, member } from './fixtures.js';
import { reverseTopologicalPowerOrder } from './powerOrdering.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const v11 = roomVersion('11')!;
const v12 = roomVersion('12')!;

/** Alice 100 (v12: creator), Bob 50, Carol 0, all joined. */
function room(rules: RoomVersionRules = v11) {
  const fx = new RoomFixture(rules);
  let s = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  s = fx.send(s, member(BOB, BOB, 'join'));
  s = fx.send(s, member(CAROL, CAROL, 'join'));
  const order = (ids: string[]) => runToEnd(reverseTopologicalPowerOrder(new Set(ids), fx.getEvent, rules, NEVER_YIELD));
  return { fx, s, order };
}

const joinRules = (id: string, sender: string, ts: number): EventSpec => ({
  id,
  type: 'm.room.join_rules',
  stateKey: '',
  sender,
  ts,
  content: { join_rule: 'invite' },
});

test('it should put events from more powerful senders first', () => {
  const { fx, s, order } = room();
  fx.send(s, joinRules('$carol', CAROL, 1));
  fx.send(s, joinRules('$bob', BOB, 2));
  fx.send(s, joinRules('$alice', ALICE, 3));
  assert.deepEqual(order(['$carol', '$bob', '$alice']), ['$alice', '$bob', '$carol']);
});

test('it should order senders of equal power by origin_server_ts', () => {
  const { fx, s, order } = room();
  fx.send(s, joinRules('$late', BOB, 20));
  fx.send(s, joinRules('$early', BOB, 10));
  assert.deepEqual(order(['$late', '$early']), ['$early', '$late']);
});

test('it should break a tie of power and timestamp by event ID', () => {
  const { fx, s, order } = room();
  fx.send(s, joinRules('$b', BOB, 10));
  fx.send(s, joinRules('$a', BOB, 10));
  fx.send(s, joinRules('$c', BOB, 10));
  assert.deepEqual(order(['$b', '$c', '$a']), ['$a', '$b', '$c']);
});

test('it should judge power by the power levels each event cites, not the latest ones', () => {
  const { fx, s, order } = room();
  const carolWasMod = fx.send(s, { type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [ALICE]: 100, [BOB]: 50, [CAROL]: 80 } } });
  fx.send(carolWasMod, joinRules('$carol', CAROL, 1));
  fx.send(s, joinRules('$bob', BOB, 2));
  assert.deepEqual(order(['$bob', '$carol']), ['$carol', '$bob']);
});

test('it should never put an event before one in its auth chain, whatever the power', () => {
  const { fx, s, order } = room();
  const afterBob = fx.send(s, { id: '$plBob', type: 'm.room.power_levels', stateKey: '', sender: BOB, ts: 50, content: { users: { [ALICE]: 100, [BOB]: 50 } } });
  fx.send(afterBob, { id: '$plAlice', type: 'm.room.power_levels', stateKey: '', sender: ALICE, ts: 1, content: { users: { [ALICE]: 100 } } });
  fx.send(s, joinRules('$jrAlice', ALICE, 100));
  // Alice's join rules are free to go first; her power levels must wait for Bob's, which they cite.
  assert.deepEqual(order(['$plAlice', '$plBob', '$jrAlice']), ['$jrAlice', '$plBob', '$plAlice']);
});

test('it should respect auth ancestry that passes through events outside the set', () => {
  const { fx, s, order } = room();
  let t = fx.send(s, { id: '$bobPl', type: 'm.room.power_levels', stateKey: '', sender: BOB, ts: 90, content: { users: { [ALICE]: 100, [BOB]: 50 } } });
  t = fx.send(t, { id: '$between', type: 'm.room.power_levels', stateKey: '', sender: ALICE, ts: 91, content: { users: { [ALICE]: 100 } } });
  fx.send(t, { id: '$alicePl', type: 'm.room.power_levels', stateKey: '', sender: ALICE, ts: 1, content: { users: { [ALICE]: 100 } } });
  assert.deepEqual(order(['$alicePl', '$bobPl']), ['$bobPl', '$alicePl']);
});

test('it should rank a v12 room creator above any power level', () => {
  const { fx, s, order } = room(v12);
  const bobAtTop = fx.send(s, { type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [BOB]: 2 ** 53 - 1 } } });
  fx.send(bobAtTop, joinRules('$bob', BOB, 1));
  fx.send(bobAtTop, joinRules('$alice', ALICE, 2));
  assert.deepEqual(order(['$bob', '$alice']), ['$alice', '$bob']);
});
