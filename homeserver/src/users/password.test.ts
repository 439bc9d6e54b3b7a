import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { PasswordHasher, hashingOptions } from './password.js';

const hasher = new PasswordHasher({ N: 1024, r: 8, p: 1 });

test('it should accept the right password and refuse a wrong one', async () => {
  const h = await hasher.hash('correct horse');
  assert.equal(await hasher.verify('correct horse', h), true);
  assert.equal(await hasher.verify('correct horse ', h), false);
  assert.equal(await hasher.verify('', h), false);
});

test('it should salt every hash, so equal passwords do not give equal hashes', async () => {
  const [a, b] = await Promise.all([hasher.hash('same'), hasher.hash('same')]);
  assert.notEqual(a, b);
  assert.ok(!a.includes('same'));
});

test('it should verify with the parameters stored in the hash, after the cost was raised', async () => {
  const old = await hasher.hash('pw');
  const stronger = new PasswordHasher({ N: 4096, r: 8, p: 1 });
  assert.match(await stronger.hash('pw'), /^scrypt\$4096\$8\$1\$/);
  assert.equal(await stronger.verify('pw', old), true);
});

test('it should treat differently composed but equivalent Unicode passwords as the same', async () => {
  const h = await hasher.hash('caf\u00e9'); // é as one code point
  assert.equal(await hasher.verify('cafe\u0301', h), true); // e + combining accent
});

test('it should refuse everything for a malformed stored hash', async () => {
  for (const bad of ['', 'plain', 'scrypt$x$8$1$AAAA$AAAA', 'bcrypt$1024$8$1$AAAA$AAAA']) {
    assert.equal(await hasher.verify('pw', bad), false, bad);
  }
  assert.equal(await hasher.verifyNothing('pw'), false);
});

test('it should leave libuv threads free for the database while a burst of hashes runs', async () => {
  // libuv's pool has 4 threads; LevelDB and fs use it too. With at most 2 hashes at once, a
  // file-system call made during a burst of 12 hashes does not wait for a hash to finish.
  const cost = { N: 2 ** 15, r: 8, p: 1 };
  const hasher2 = new PasswordHasher(cost, 2);
  let t = performance.now();
  await hasher2.hash('warm-up');
  const single = performance.now() - t;
  const burst = Promise.all(Array.from({ length: 12 }, (_, i) => hasher2.hash(`pw${i}`)));
  await new Promise((r) => setTimeout(r, 5));
  t = performance.now();
  await stat(tmpdir());
  const statMs = performance.now() - t;
  const hashes = await burst;
  assert.equal(new Set(hashes).size, 12);
  assert.equal(await hasher2.verify('pw11', hashes[11]), true);
  assert.ok(statMs < single / 2, `stat took ${statMs.toFixed(1)} ms during the burst; one hash takes ${single.toFixed(0)} ms`);
});

test('it should use the configured cost (log2 N) for new hashes', async () => {
  const h = new PasswordHasher(hashingOptions({ scrypt_log_n: 11, max_concurrent: 2 }).scryptCost);
  assert.match(await h.hash('pw'), /^scrypt\$2048\$8\$1\$/);
});
