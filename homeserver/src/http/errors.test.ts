import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as errors from './errors.js';
import { MatrixError } from './errors.js';

test('it should give every catalogued error an M_ code, a message and a client or server error status', () => {
  for (const [name, make] of Object.entries(errors)) {
    if (typeof make !== 'function' || make === MatrixError) continue;
    const err = (make as (...a: unknown[]) => MatrixError)('x');
    assert.ok(err instanceof MatrixError, name);
    assert.match(err.errcode, /^M_[A-Z_]+$/, name);
    assert.ok(err.status >= 400 && err.status < 600, name);
    const body = err.toJSON();
    assert.equal(typeof body.error, 'string', name);
    assert.equal(body.errcode, err.errcode, name);
  }
});

test('it should tell a rate-limited client how long to wait, in the body and the Retry-After header', () => {
  const err = errors.limitExceeded(2500);
  assert.equal(err.status, 429);
  assert.deepEqual(err.toJSON(), { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 2500 });
  assert.equal(err.headers['Retry-After'], '3');
});

test('it should use 405 with M_UNRECOGNIZED for a known path with the wrong method', () => {
  const err = errors.methodNotAllowed();
  assert.equal(err.status, 405);
  assert.equal(err.errcode, 'M_UNRECOGNIZED');
});
