import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rateLimiter.js';
import { MatrixError } from './errors.js';

const config = {
  message: { perSecond: 2, burst: 3 },
  login: { perSecond: 1, burst: 1 },
  register: { perSecond: 1, burst: 1 },
  general: { perSecond: 100, burst: 100 },
};

test('it should allow a burst, then refuse with the time until the next request is allowed', () => {
  let now = 0;
  const rl = new RateLimiter(config, () => now);
  for (let i = 0; i < 3; i++) rl.take('message', '@a:x');
  assert.throws(
    () => rl.take('message', '@a:x'),
    (e: unknown) => e instanceof MatrixError && e.errcode === 'M_LIMIT_EXCEEDED' && e.extra.retry_after_ms === 500,
  );
  now = 500;
  rl.take('message', '@a:x');
});

test('it should keep separate buckets per caller and per class', () => {
  const rl = new RateLimiter(config, () => 0);
  rl.take('login', '1.2.3.4');
  rl.take('login', '5.6.7.8');
  rl.take('message', '1.2.3.4');
  assert.throws(() => rl.take('login', '1.2.3.4'));
});
