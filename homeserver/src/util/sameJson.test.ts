// sameJson decides whether a woken /sync may be sent an earlier answer's text, and whether a
// member event would change anything: equal only when the two values encode to equal JSON.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sameJson } from './sameJson.js';

it('it should call two answers the same only when their JSON values are equal', () => {
  const answer = () => ({ next_batch: 's9', to_device: { events: [] }, device_one_time_keys_count: { signed_curve25519: 3 }, rooms: { join: {} } });
  assert.equal(sameJson(answer(), answer()), true);
  assert.equal(sameJson({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 }), true, 'key order aside');
  assert.equal(sameJson({ ...answer(), device_one_time_keys_count: { signed_curve25519: 2 } }, answer()), false, 'a count');
  assert.equal(sameJson({ ...answer(), extra: [] }, answer()), false, 'a key more');
  assert.equal(sameJson(answer(), { ...answer(), extra: [] }), false, 'a key less');
  assert.equal(sameJson({ ...answer(), rooms: { join: { '!r:x': {} } } }, answer(), 'rooms'), true, 'the skipped key');
  assert.equal(sameJson({ ...answer(), rooms: { join: { '!r:x': {} } } }, answer()), false);
  assert.equal(sameJson({ a: [1, 2] }, { a: [2, 1] }), false, 'array order');
  assert.equal(sameJson({ a: '1' }, { a: 1 }), false, 'types');
  assert.equal(sameJson({ a: null }, { a: {} }), false);
});

it('it should count values JSON would change as different', () => {
  assert.equal(sameJson({ a: Number.NaN }, { a: Number.NaN }), false);
  assert.equal(sameJson({ a: undefined }, { a: undefined }), false);
  assert.equal(sameJson({ a: new Date(0) }, { a: new Date(1) }), false, 'not a plain object');
});
