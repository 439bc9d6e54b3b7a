import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../roomVersions.js';
import { ALICE, BOB, CAROL, RoomFixture, member } from './fixtures.js';
import { isPowerEvent, powerEventsWithAncestry } from './powerEvents.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const v11 = roomVersion('11')!;

test('it should count as power events only those that can take abilities away', () => {
  const fx = new RoomFixture(v11);
  const s = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  const kind = (spec: Parameters<RoomFixture['send']>[1]) => isPowerEvent(fx.add(spec, []).pdu);
  assert.equal(kind(member(BOB, CAROL, 'ban')), true);
  assert.equal(kind(member(BOB, CAROL, 'leave')), true); // a kick
  assert.equal(kind(member(CAROL, CAROL, 'leave')), false); // leaving yourself
  assert.equal(kind(member(CAROL, CAROL, 'join')), false);
  assert.equal(kind(member(BOB, CAROL, 'invite')), false);
  assert.equal(kind({ type: 'm.room.topic', stateKey: '', sender: ALICE, content: { topic: 'x' } }), false);
  assert.equal(isPowerEvent(fx.event(s.get('m.room.power_levels\u0000')!).pdu), true);
  assert.equal(isPowerEvent(fx.event(s.get('m.room.join_rules\u0000')!).pdu), true);
  assert.equal(isPowerEvent(fx.event('$create').pdu), true); // as Synapse and Ruma count it
});

test('it should add the conflicted events in power events’ auth chains, even past unconflicted ones', () => {
  const fx = new RoomFixture(v11);
  let s = fx.createRoom(ALICE, { users: { [BOB]: 50 } });
  s = fx.send(s, member(CAROL, CAROL, 'join', { id: '$carolJoin' }));
  s = fx.send(s, member(BOB, BOB, 'join', { id: '$bobJoin' }));
  s = fx.send(s, { id: '$pl', type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [ALICE]: 100, [BOB]: 60 } } });
  fx.send(s, member(BOB, CAROL, 'ban', { id: '$ban' }));
  fx.send(s, { id: '$topic', type: 'm.room.topic', stateKey: '', sender: BOB, content: { topic: 'x' } });
  // $ban cites $carolJoin directly, and Alice's join ($e1) only through $pl, which is not
  // in the set. The topic is neither a power event nor an ancestor of one.
  const full = new Set(['$ban', '$carolJoin', '$e1', '$topic']);
  const picked = runToEnd(powerEventsWithAncestry(full, fx.getEvent, NEVER_YIELD));
  assert.deepEqual([...picked].sort(), ['$ban', '$carolJoin', '$e1']);
});
