import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from 'node:crypto';
import {
  generateSigningKey,
  parseSigningKey,
  parseSigningKeyFile,
  publicKeyFromBase64,
  serializeSigningKey,
  signingKeyFromSeed,
} from './ed25519Key.js';

// appendices.md "Cryptographic Test Vectors" → "Signing Key".
const SPEC_SEED = 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1';

test('it should load the spec test seed and produce a key whose signatures its published public key verifies', () => {
  const key = signingKeyFromSeed('ed25519:1', SPEC_SEED);
  assert.equal(key.keyId, 'ed25519:1');
  assert.equal(key.seed.length, 32);
  const data = Buffer.from('hello');
  const sig = sign(null, data, key.privateKey);
  assert.ok(verify(null, data, publicKeyFromBase64(key.publicKeyBase64), sig));
  assert.equal(publicKeyFromBase64(key.publicKeyBase64).asymmetricKeyType, 'ed25519');
});

test('it should generate distinct keys with a valid a_xxxx version', () => {
  const a = generateSigningKey();
  const b = generateSigningKey();
  assert.match(a.keyId, /^ed25519:a_[A-Za-z0-9]{4}$/);
  assert.notDeepEqual(a.seed, b.seed);
  assert.equal(generateSigningKey('auto_1').keyId, 'ed25519:auto_1');
});

test('it should round-trip a key through the Synapse signing key file line format', () => {
  const zeroSeed = Buffer.alloc(32);
  assert.equal(serializeSigningKey(signingKeyFromSeed('ed25519:a_AbCd', zeroSeed)), `ed25519 a_AbCd ${'A'.repeat(43)}`);
  const key = signingKeyFromSeed('ed25519:a_AbCd', SPEC_SEED);
  const back = parseSigningKey(serializeSigningKey(key) + '\n');
  assert.equal(back.keyId, key.keyId);
  assert.deepEqual(back.seed, key.seed);
  assert.equal(back.publicKeyBase64, key.publicKeyBase64);
});

test('it should read every key of a multi-line key file and skip blank lines', () => {
  const other = generateSigningKey('b');
  const keys = parseSigningKeyFile(`ed25519 a ${SPEC_SEED}\n\n${serializeSigningKey(other)}\n`);
  assert.deepEqual(keys.map((k) => k.keyId), ['ed25519:a', 'ed25519:b']);
  assert.equal(keys[1].publicKeyBase64, other.publicKeyBase64);
});

test('it should refuse malformed key lines, wrong seed lengths and bad key versions', () => {
  assert.throws(() => parseSigningKey(`rsa 1 ${SPEC_SEED}`));
  assert.throws(() => parseSigningKey('ed25519 1'));
  assert.throws(() => signingKeyFromSeed('ed25519:1', 'Zm9v'));
  assert.throws(() => signingKeyFromSeed('ed25519:bad-version!', SPEC_SEED));
  assert.throws(() => signingKeyFromSeed('curve25519:1', SPEC_SEED));
  assert.throws(() => publicKeyFromBase64('Zm9v'));
});
