import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../roomVersions.js';
import { ALICE, RoomFixture } from './fixtures.js';
import { mainlineOf, mainlineOrder } from './mainline.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const v11 = roomVersion('11')!;

const pl = (id: string, n: number) => ({ id, type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: { users: { [ALICE]: 100 }, ban: 50 + n } });
const topic = (id: string, ts: number) => ({ id, type: 'm.room.topic', stateKey: '', sender: ALICE, ts, content: { topic: id } });

/** Power levels $e2 (room creation) ← $pl1 ← $pl2, and a side branch $plX ← $e2. */
function room() {
  const fx = new RoomFixture(v11);
  const s0 = fx.createRoom(ALICE);
  const s1 = fx.send(s0, pl('$pl1', 1));
  const s2 = fx.send(s1, pl('$pl2', 2));
  const sX = fx.send(s0, pl('$plX', 9));
  const order = (ids: string[], p: string | undefined = '$pl2') => runToEnd(mainlineOrder(ids, p, fx.getEvent, NEVER_YIELD));
  return { fx, s0, s1, s2, sX, order };
}

test('it should build the mainline by following cited power levels back to the first', () => {
  const { fx } = room();
  assert.deepEqual([...mainlineOf('$pl2', fx.getEvent)], [['$pl2', 0], ['$pl1', 1], ['$e2', 2]]);
});

test('it should put events based on older mainline power levels first, whatever their timestamps', () => {
  const { fx, s0, s1, s2, order } = room();
  fx.send(s2, topic('$new', 1));
  fx.send(s1, topic('$mid', 2));
  fx.send(s0, topic('$old', 3));
  assert.deepEqual(order(['$new', '$mid', '$old']), ['$old', '$mid', '$new']);
});

test('it should place an event by the first mainline event its power levels ancestry reaches', () => {
  const { fx, s0, s1, sX, order } = room();
  fx.send(sX, topic('$viaFork', 6)); // $plX is off the mainline; it cites $e2, which is on it
  fx.send(s0, topic('$onE2', 5));
  fx.send(s1, topic('$onPl1', 1));
  // Same position as $onE2 (so timestamp decides), deeper than $onPl1.
  assert.deepEqual(order(['$onPl1', '$viaFork', '$onE2']), ['$onE2', '$viaFork', '$onPl1']);
});

test('it should put events citing no power levels before all others', () => {
  const { fx, s2, order } = room();
  fx.send(s2, topic('$cites', 1));
  // The creator's join cites only the create event.
  assert.deepEqual(order(['$cites', '$e1']), ['$e1', '$cites']);
});

test('it should order events at the same mainline position by timestamp, then event ID', () => {
  const { fx, s2, order } = room();
  fx.send(s2, topic('$b', 7));
  fx.send(s2, topic('$late', 9));
  fx.send(s2, topic('$a', 7));
  assert.deepEqual(order(['$late', '$b', '$a']), ['$a', '$b', '$late']);
});

test('it should fall back to timestamp order when there is no resolved power levels event', () => {
  const { fx, s0, s2 } = room();
  fx.send(s2, topic('$first', 1));
  fx.send(s0, topic('$second', 2));
  assert.deepEqual(runToEnd(mainlineOrder(['$second', '$first'], undefined, fx.getEvent, NEVER_YIELD)), ['$first', '$second']);
});
