// Two-part map keys made once per pair: always the parts joined by NUL, for every pair,
// also after the bound has dropped what was made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PairKeys } from './pairKeys.js';

test('it should give every pair the key of its parts joined by NUL, also across drops at capacity', () => {
  const keys = new PairKeys(3);
  const pairs = Array.from({ length: 10 }, (_, i) => [`@u${i % 4}:x`, `D${i}`] as const);
  for (let round = 0; round < 3; round++) {
    for (const [a, b] of pairs) assert.equal(keys.of(a, b), `${a}\u0000${b}`);
  }
  // One user's devices share the user's inner table: each still gets its own key.
  assert.notEqual(keys.of('@u1:x', 'D1'), keys.of('@u1:x', 'D5'));
});
