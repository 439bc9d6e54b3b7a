import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomVersion } from '../roomVersions.js';
import { MissingEventError } from './eventGraph.js';
import { generateRoom } from './generatedRoom.js';
import { resolveState, resolveStateYielding } from './resolveState.js';
import { workMeter } from './work.js';

const rules = roomVersion('12')!;
const { fx, stateSets } = generateRoom(rules, { seed: 3, branches: 3, steps: 400, members: 30, mods: 3 });
const input = { stateSets, getEvent: fx.getEvent, rules };

test('it should give the same answer when resolving in slices as all at once', async () => {
  assert.deepEqual(await resolveStateYielding(input, 25), resolveState(input));
});

test('it should let other callbacks run while it resolves', async () => {
  let finished = false;
  let turns = 0;
  const spin = (): void => {
    if (finished) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  await resolveStateYielding(input, 100);
  finished = true;
  assert.ok(turns > 5, `other work ran only ${turns} times during resolution`);
});

test('it should reject, not hang, when an event is missing', async () => {
  const getEvent = (id: string) => (id === fx.createId ? undefined : fx.getEvent(id));
  await assert.rejects(resolveStateYielding({ ...input, getEvent }, 100), MissingEventError);
});

test('it should ask to pause once per budget of work', () => {
  const meter = workMeter(3);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => meter.tick()), [false, false, true, false, false, true, false]);
  assert.equal(workMeter(10).tick(10), true);
  assert.throws(() => workMeter(0), RangeError);
});
