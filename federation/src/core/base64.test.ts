import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Base64Error, decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url } from './base64.js';

// appendices.md "Unpadded Base64" examples.
const specExamples: [string, string][] = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
];

test('it should encode the spec examples without padding and decode them back', () => {
  for (const [plain, encoded] of specExamples) {
    assert.equal(encodeBase64(Buffer.from(plain)), encoded);
    assert.equal(decodeBase64(encoded).toString(), plain);
  }
});

test('it should accept padded input when decoding', () => {
  assert.equal(decodeBase64('Zg==').toString(), 'f');
  assert.equal(decodeBase64('Zm8=').toString(), 'fo');
  assert.equal(decodeBase64Url('Zm9vYg==').toString(), 'foob');
});

test('it should use - and _ in the URL-safe alphabet and + and / in the standard one', () => {
  const bytes = Uint8Array.from([0xfb, 0xff, 0xfe]);
  assert.equal(encodeBase64(bytes), '+//+');
  assert.equal(encodeBase64Url(bytes), '-__-');
  assert.deepEqual([...decodeBase64Url('-__-')], [0xfb, 0xff, 0xfe]);
  assert.deepEqual([...decodeBase64('+//+')], [0xfb, 0xff, 0xfe]);
});

test('it should round-trip random bytes of every length remainder, including from a Uint8Array view', () => {
  const backing = new Uint8Array(70);
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + 11) & 0xff;
  for (let len = 0; len <= 64; len++) {
    const view = backing.subarray(3, 3 + len);
    assert.deepEqual(decodeBase64(encodeBase64(view)), Buffer.from(view));
    assert.deepEqual(decodeBase64Url(encodeBase64Url(view)), Buffer.from(view));
  }
});

test('it should reject malformed base64 instead of decoding it leniently', () => {
  for (const bad of ['Zm9v!', 'Z', 'Zm9vY', 'Zg=', 'Zg===', 'Z m9v', '-__-']) {
    assert.throws(() => decodeBase64(bad), Base64Error, bad);
  }
  assert.throws(() => decodeBase64Url('+//+'), Base64Error);
});
