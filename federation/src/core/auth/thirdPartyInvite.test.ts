import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson } from '../canonicalJson.js';
import { thirdPartyPublicKeys, verifyThirdPartySigned } from './thirdPartyInvite.js';

const key = generateKeyPairSync('ed25519');
const rawB64Url = key.publicKey.export({ format: 'jwk' }).x as string;
const rawB64 = Buffer.from(rawB64Url, 'base64url').toString('base64').replace(/=+$/, '');
const body = { mxid: '@bob:b.example', token: 'abc', sender: '@alice:a.example' };
const sig = sign(null, Buffer.from(canonicalJson(body)), key.privateKey).toString('base64').replace(/=+$/, '');
const signed = { ...body, signatures: { 'id.example': { 'ed25519:0': sig } } };

test('it should verify a signed block under either base64 alphabet of the key', () => {
  assert.equal(verifyThirdPartySigned(signed, [rawB64]), true);
  assert.equal(verifyThirdPartySigned(signed, [rawB64Url]), true);
});

test('it should fail for the wrong key, a tampered block or no signatures', () => {
  const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string;
  assert.equal(verifyThirdPartySigned(signed, [other]), false);
  assert.equal(verifyThirdPartySigned({ ...signed, token: 'xyz' }, [rawB64]), false);
  assert.equal(verifyThirdPartySigned(body, [rawB64]), false);
  assert.equal(verifyThirdPartySigned(signed, ['not base64!']), false);
});

test('it should collect public_key and every public_keys entry', () => {
  assert.deepEqual(thirdPartyPublicKeys({ public_key: 'a', public_keys: [{ public_key: 'b' }, { key_validity_url: 'x' }, 'junk'] }), ['a', 'b']);
  assert.deepEqual(thirdPartyPublicKeys({}), []);
});
