import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenCache } from './tokenCache.js';

const alice = { userId: '@alice:x', deviceId: 'A', isAdmin: false };
const bob = { userId: '@bob:x', deviceId: 'B', isAdmin: false };

test('it should not cache a lookup that raced with a revocation', () => {
  const cache = new TokenCache();
  const readAt = cache.generation; // a lookup starts reading storage…
  cache.evict(['aa']); // …the token is revoked meanwhile…
  cache.set('aa', alice, readAt); // …and the stale result must not come back.
  assert.equal(cache.get('aa'), undefined);
  cache.set('aa', alice, cache.generation);
  assert.deepEqual(cache.get('aa'), alice);
});

test('it should forget the least recently used entry when full, and all of a user on request', () => {
  const cache = new TokenCache(2);
  cache.set('a1', alice, cache.generation);
  cache.set('b1', bob, cache.generation);
  cache.get('a1'); // a1 is now the most recently used
  cache.set('a2', alice, cache.generation);
  assert.equal(cache.get('b1'), undefined);
  assert.deepEqual([cache.get('a1'), cache.get('a2')], [alice, alice]);
  cache.evictUser(alice.userId);
  assert.deepEqual([cache.get('a1'), cache.get('a2')], [undefined, undefined]);
});
