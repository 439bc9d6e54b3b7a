import { test } from 'node:test';
import assert from 'node:assert/strict';
import { key, prefixRange, readU64, u64 } from './keys.js';

test('it should order big-endian integers numerically as bytes', () => {
  const nums = [0, 1, 255, 256, 65535, 1_000_000, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER];
  const shuffled = [...nums].reverse();
  const sorted = shuffled.map(u64).sort(Buffer.compare).map((b) => readU64(b));
  assert.deepEqual(sorted, nums);
});

test('it should keep keys of one prefix together and before a longer prefix that extends it', () => {
  // "@ab:x" must not interleave with "@a:x" keys: the separator ends the string part.
  const a = [key('@a:x', 2), key('@a:x', 10)];
  const ab = [key('@ab:x', 1)];
  const all = [...ab, ...a].sort(Buffer.compare);
  assert.deepEqual(all, [...a, ...ab]);
  const r = prefixRange(key('@a:x'));
  for (const k of a) assert.ok(Buffer.compare(k, r.gte) >= 0 && Buffer.compare(k, r.lt) < 0);
  for (const k of ab) assert.ok(!(Buffer.compare(k, r.gte) >= 0 && Buffer.compare(k, r.lt) < 0));
});

test('it should order composite keys by their first part, then numerically by the second', () => {
  const ks = [key(2, 300), key(1, 5), key(2, 4), key(1, 256)].sort(Buffer.compare);
  assert.deepEqual(
    ks.map((k) => [readU64(k, 0), readU64(k, 8)]),
    [[1, 5], [1, 256], [2, 4], [2, 300]],
  );
});

test('it should lay out composite keys byte for byte as strings + 0xFF, 8-byte big-endian numbers and raw bytes, and refuse what is not an unsigned integer', () => {
  const reference = (parts: Array<string | number | Buffer>) =>
    Buffer.concat(
      parts.flatMap((p) => {
        if (typeof p === 'string') return [Buffer.from(p, 'utf8'), Buffer.from([0xff])];
        if (typeof p === 'number') {
          const b = Buffer.alloc(8);
          b.writeBigUInt64BE(BigInt(p));
          return [b];
        }
        return [p];
      }),
    );
  const cases: Array<Array<string | number | Buffer>> = [
    [],
    ['@alice:example.org'],
    ['@ünïcødé:例え.jp', 'DEVICE', 0],
    [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 63],
    ['', 7, Buffer.from([0, 1, 2]), '😀'],
  ];
  for (const parts of cases) assert.deepEqual(key(...parts), reference(parts), JSON.stringify(parts.map(String)));
  for (const n of [0, 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) assert.equal(readU64(u64(n)), n);
  for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 64]) {
    assert.throws(() => u64(bad), RangeError);
    assert.throws(() => key('x', bad), RangeError);
  }
});
