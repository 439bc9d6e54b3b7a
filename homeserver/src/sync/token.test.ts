import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatrixError } from '../http/errors.js';
import { decodeToken, encodeToken, parseToken } from './token.js';

test('it should round-trip stream positions through tokens', () => {
  for (const pos of [0, 1, 57, 10_000, 2 ** 40]) assert.equal(decodeToken(encodeToken(pos)), pos);
  assert.equal(encodeToken(42), 's42');
});

test('it should not accept tokens that are not ours', () => {
  for (const bad of ['', 's', '42', 's-1', 's1.5', 't42', 's42_1', 's 42', 's1234567890123456']) {
    assert.equal(decodeToken(bad), undefined, bad);
  }
});

test('it should answer a malformed token with 400 M_INVALID_PARAM', () => {
  assert.throws(
    () => parseToken('nonsense', 'since'),
    (e: unknown) => e instanceof MatrixError && e.status === 400 && e.errcode === 'M_INVALID_PARAM',
  );
});
