import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../roomVersions.js';
import { conflictedSubgraph } from './conflictedSubgraph.js';
import { ALICE, BOB, RoomFixture, member } from './fixtures.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const v12 = roomVersion('12')!;

// Power levels $pl1 ← $pl2 ← $pl3 by alice; bob joins (citing $pl1) and then sets a topic
// (citing $pl2 and his join).
function chainOfPowerLevels() {
  const fx = new RoomFixture(v12);
  let s = fx.createRoom(ALICE);
  const pl = (id: string, level: number) => ({ id, type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [BOB]: level } } });
  s = fx.send(s, pl('$pl1', 1));
  s = fx.send(s, member(BOB, BOB, 'join', { id: '$bob' }));
  s = fx.send(s, pl('$pl2', 2));
  fx.send(s, pl('$pl3', 3));
  fx.send(s, { id: '$topic', type: 'm.room.topic', stateKey: '', sender: BOB, content: { topic: 'hi' } });
  return fx;
}

test('it should include the events on auth paths between two conflicted events', () => {
  const fx = chainOfPowerLevels();
  const sub = runToEnd(conflictedSubgraph(new Set(['$pl3', '$pl1']), fx.getEvent, NEVER_YIELD));
  assert.deepEqual([...sub].sort(), ['$pl1', '$pl2', '$pl3']);
});

test('it should follow every path between them but leave out ancestors that lead to no conflicted event', () => {
  const fx = chainOfPowerLevels();
  // $topic reaches $pl1 both through $bob and through $pl2; create, alice's join and the
  // first power levels and join rules lie below $pl1 only, so they stay out.
  const sub = runToEnd(conflictedSubgraph(new Set(['$topic', '$pl1']), fx.getEvent, NEVER_YIELD));
  assert.deepEqual([...sub].sort(), ['$bob', '$pl1', '$pl2', '$topic']);
});

test('it should contain only the conflicted events themselves when no path joins them', () => {
  const fx = chainOfPowerLevels();
  const sub = runToEnd(conflictedSubgraph(new Set(['$bob', '$pl2']), fx.getEvent, NEVER_YIELD));
  assert.deepEqual([...sub].sort(), ['$bob', '$pl2']);
});
