import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PasswordHasher } from './password.js';

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
