import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentHash, hasValidContentHash, withContentHash } from './hashes.js';
import { messageEvent, messageEventSigned, minimalEvent, minimalEventSigned } from './specEvents.testdata.js';

test('it should compute the content hashes given in the spec event-signing examples', () => {
  assert.equal(contentHash(minimalEvent()), '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
  assert.equal(contentHash(messageEvent()), 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g');
});

test('it should ignore unsigned, signatures and existing hashes when hashing', () => {
  const signed = minimalEventSigned();
  assert.equal(contentHash({ ...signed, unsigned: { age: 5 }, signatures: {} }), '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
});

test('it should accept the spec signed events and reject them once content is altered', () => {
  assert.ok(hasValidContentHash(minimalEventSigned()));
  assert.ok(hasValidContentHash(messageEventSigned()));
  const tampered = messageEventSigned();
  tampered.content = { body: 'Something else' };
  assert.equal(hasValidContentHash(tampered), false);
});

test('it should treat a missing or malformed hash as invalid rather than throwing', () => {
  assert.equal(hasValidContentHash(minimalEvent()), false);
  assert.equal(hasValidContentHash({ ...minimalEvent(), hashes: { sha256: '%%%' } }), false);
  assert.equal(hasValidContentHash({ ...minimalEventSigned(), depth: 1.5 }), false);
});

test('it should add the content hash to a copy and leave the input untouched', () => {
  const input = minimalEvent();
  const hashed = withContentHash(input);
  assert.deepEqual(hashed.hashes, { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' });
  assert.deepEqual(input.hashes, {});
  assert.deepEqual(hashed.unsigned, { age_ts: 1000000 });
});
