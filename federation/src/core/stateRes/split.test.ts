import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stateKeyOf } from '../types.js';
import { splitStateSets } from './split.js';

const topic = stateKeyOf('m.room.topic', '');
const name = stateKeyOf('m.room.name', '');
const pl = stateKeyOf('m.room.power_levels', '');

test('it should keep a key as unconflicted only when every state set has the same event for it', () => {
  const { unconflicted, conflicted } = splitStateSets([
    new Map([[pl, '$pl'], [topic, '$t1']]),
    new Map([[pl, '$pl'], [topic, '$t2']]),
  ]);
  assert.deepEqual([...unconflicted], [[pl, '$pl']]);
  assert.deepEqual([...conflicted].sort(), ['$t1', '$t2']);
});

test('it should treat a key missing from one state set as conflicted', () => {
  const { unconflicted, conflicted } = splitStateSets([new Map([[name, '$n']]), new Map()]);
  assert.equal(unconflicted.size, 0);
  assert.deepEqual([...conflicted], ['$n']);
});

test('it should leave a single state set entirely unconflicted', () => {
  const only = new Map([[pl, '$pl'], [topic, '$t']]);
  const { unconflicted, conflicted } = splitStateSets([only]);
  assert.deepEqual(unconflicted, only);
  assert.equal(conflicted.size, 0);
});
