import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../roomVersions.js';
import { authChain, authDifference } from './authChain.js';
import { MissingEventError } from './eventGraph.js';
import { ALICE, BOB, CAROL, RoomFixture, member } from './fixtures.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const v11 = roomVersion('11')!;

function room() {
  const fx = new RoomFixture(v11);
  const base = fx.createRoom(ALICE);
  const withBob = fx.send(base, member(BOB, BOB, 'join', { id: '$bob' }));
  const withCarol = fx.send(base, member(CAROL, CAROL, 'join', { id: '$carol' }));
  return { fx, base, withBob, withCarol };
}

test('it should collect every event reachable through auth_events, but not the start event', () => {
  const { fx } = room();
  const chain = runToEnd(authChain(['$bob'], fx.getEvent, NEVER_YIELD));
  assert.deepEqual([...chain].sort(), ['$create', '$e1', '$e2', '$e3'].sort()); // create, alice join, power levels, join rules
  assert.equal(chain.has('$bob'), false);
});

test('it should report as auth difference exactly the events some but not all states rest on', () => {
  const { fx, withBob, withCarol } = room();
  const diff = runToEnd(authDifference([withBob, withCarol], fx.getEvent, NEVER_YIELD));
  assert.deepEqual([...diff].sort(), ['$bob', '$carol']);
});

test('it should find no auth difference between identical states', () => {
  const { fx, withBob } = room();
  assert.equal(runToEnd(authDifference([withBob, new Map(withBob)], fx.getEvent, NEVER_YIELD)).size, 0);
});

test('it should fail clearly when an auth event was not provided', () => {
  const { fx } = room();
  fx.events.delete('$e2');
  assert.throws(() => runToEnd(authChain(['$bob'], fx.getEvent, NEVER_YIELD)), (err: unknown) => err instanceof MissingEventError && err.eventId === '$e2');
});
