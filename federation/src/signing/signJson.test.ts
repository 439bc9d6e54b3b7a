import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signingKeyFromSeed, generateSigningKey } from './ed25519Key.js';
import { signJson, signaturesOf, verifyJsonSignature, verifyJsonSignatureAsync } from './signJson.js';

// appendices.md "Cryptographic Test Vectors": seed, server name and key ID.
const key = signingKeyFromSeed('ed25519:1', 'YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');

test('it should reproduce the spec signature of an empty object', () => {
  assert.deepEqual(signJson({}, 'domain', key), {
    signatures: {
      domain: {
        'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
      },
    },
  });
});

test('it should reproduce the spec signature of an object with data', () => {
  assert.deepEqual(signJson({ one: 1, two: 'Two' }, 'domain', key), {
    one: 1,
    signatures: {
      domain: {
        'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      },
    },
    two: 'Two',
  });
});

test('it should keep unsigned data and other signatures, and not sign over them', () => {
  const input = { one: 1, unsigned: { age_ts: 5 }, signatures: { other: { 'ed25519:x': 'abc' } } };
  const signed = signJson(input, 'domain', key);
  assert.deepEqual(signed.unsigned, { age_ts: 5 });
  assert.equal(signed.signatures.other['ed25519:x'], 'abc');
  assert.deepEqual(input.signatures, { other: { 'ed25519:x': 'abc' } }, 'input is not mutated');
  // Same signature as signing {one: 1} alone: unsigned and signatures are excluded.
  assert.equal(signed.signatures.domain['ed25519:1'], signJson({ one: 1 }, 'domain', key).signatures.domain['ed25519:1']);
  // Changing unsigned after signing keeps the signature valid.
  assert.ok(verifyJsonSignature({ ...signed, unsigned: { age_ts: 99 } }, 'domain', 'ed25519:1', key.publicKey));
});

test('it should verify a signature and fail once the signed data is tampered with', () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', key);
  assert.ok(verifyJsonSignature(signed, 'domain', 'ed25519:1', key.publicKey));
  assert.equal(verifyJsonSignature({ ...signed, two: 'Three' }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:1', generateSigningKey().publicKey), false);
});

test('it should fail verification when the signature is missing, malformed or of an unknown algorithm', () => {
  const signed = signJson({ a: 1 }, 'domain', key);
  const sig = signed.signatures.domain['ed25519:1'];
  assert.equal(verifyJsonSignature(signed, 'elsewhere', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature(signed, 'domain', 'ed25519:2', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1 }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1, signatures: { domain: { 'ed25519:1': '!!!' } } }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1, signatures: { domain: { 'ed25519:1': sig.slice(4) } } }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1.5, signatures: signed.signatures }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(verifyJsonSignature({ a: 1, signatures: { domain: { 'rsa:1': sig } } }, 'domain', 'rsa:1', key.publicKey), false);
});

test('it should accept a correct signature written with base64 padding', () => {
  const signed = signJson({ a: 1 }, 'domain', key);
  const padded = { a: 1, signatures: { domain: { 'ed25519:1': signed.signatures.domain['ed25519:1'] + '==' } } };
  assert.ok(verifyJsonSignature(padded, 'domain', 'ed25519:1', key.publicKey));
});

test('it should list only the ed25519 signatures of the named server', () => {
  const obj = { signatures: { domain: { 'ed25519:1': 'a', 'ed25519:2': 'b', 'curve:3': 'c' }, other: { 'ed25519:9': 'z' } } };
  assert.deepEqual(signaturesOf(obj, 'domain'), [
    { keyId: 'ed25519:1', sig: 'a' },
    { keyId: 'ed25519:2', sig: 'b' },
  ]);
  assert.deepEqual(signaturesOf(obj, 'nobody'), []);
  assert.deepEqual(signaturesOf({}, 'domain'), []);
});

test('it should give the same verdicts when verifying on the thread pool', async () => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', key);
  assert.equal(await verifyJsonSignatureAsync(signed, 'domain', 'ed25519:1', key.publicKey), true);
  assert.equal(await verifyJsonSignatureAsync({ ...signed, two: 'Three' }, 'domain', 'ed25519:1', key.publicKey), false);
  assert.equal(await verifyJsonSignatureAsync({ one: 1 }, 'domain', 'ed25519:1', key.publicKey), false);
});
