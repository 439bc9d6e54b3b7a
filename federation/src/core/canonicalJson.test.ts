import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CanonicalJsonError, canonicalJson, canonicalJsonBytes, canonicalJsonWithout } from './canonicalJson.js';
import type { JsonValue } from './types.js';

// Input/output pairs from appendices.md "Canonical JSON" → "Examples".
const specExamples: [input: string, expected: string][] = [
  ['{}', '{}'],
  ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
  ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
  ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
  [
    `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
    '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
  ],
  ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
  ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
  ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
  ['{\n    "a": null\n}', '{"a":null}'],
  ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
];

test('it should reproduce every canonical JSON example from the spec', () => {
  for (const [input, expected] of specExamples) {
    assert.equal(canonicalJson(JSON.parse(input) as JsonValue), expected, input);
  }
});

test('it should encode non-ASCII text as UTF-8 bytes rather than \\u escapes', () => {
  assert.deepEqual(canonicalJsonBytes({ a: '日' }), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe6, 0x97, 0xa5, 0x22, 0x7d]));
});

test('it should sort keys by code point, placing astral characters after U+FFxx', () => {
  // UTF-16 order would put the emoji (surrogate D83D) before U+FB01.
  assert.equal(canonicalJson({ '\u{1F600}': 2, '\uFB01': 1, z: 0 }), '{"z":0,"\uFB01":1,"\u{1F600}":2}');
});

test('it should use the shortest escapes for control characters and leave DEL and slash alone', () => {
  assert.equal(canonicalJson('\u0000\u001f\b\t\n\f\r"\\\u007f/'), '"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\\u007f/"');
});

test('it should reject floats, NaN and infinities', () => {
  for (const bad of [1.5, -0.1, NaN, Infinity]) {
    assert.throws(() => canonicalJson({ a: [bad] }), CanonicalJsonError, String(bad));
  }
});

test('it should reject integers beyond ±(2^53−1) only in strict mode', () => {
  const max = Number.MAX_SAFE_INTEGER;
  assert.equal(canonicalJson({ n: max, m: -max }, { strict: true }), `{"m":-${max},"n":${max}}`);
  assert.throws(() => canonicalJson({ n: 2 ** 53 }, { strict: true }), CanonicalJsonError);
  assert.throws(() => canonicalJson({ n: -(2 ** 53) }, { strict: true }), CanonicalJsonError);
  // Lenient (room v1–v5): accepted, and written without exponent notation.
  assert.equal(canonicalJson({ n: 2 ** 53 }), '{"n":9007199254740992}');
  assert.equal(canonicalJson({ n: 1e21 }), '{"n":1000000000000000000000}');
});

test('it should reject strings with lone surrogates but accept escaped-looking text', () => {
  assert.throws(() => canonicalJson({ a: 'x\uD800y' }), CanonicalJsonError);
  assert.throws(() => canonicalJson({ ['\uDC00']: 1 }), CanonicalJsonError);
  assert.equal(canonicalJson({ a: '\\ud800' }), '{"a":"\\\\ud800"}');
});

test('it should skip undefined properties and reject non-JSON values', () => {
  assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
  assert.throws(() => canonicalJson([undefined] as unknown as JsonValue), CanonicalJsonError);
  assert.throws(() => canonicalJson({ f: (() => 1) as unknown as JsonValue }), CanonicalJsonError);
});

test('it should report cyclic or absurdly deep values as an encoding error', () => {
  const cyclic: Record<string, JsonValue> = {};
  cyclic.self = cyclic;
  assert.throws(() => canonicalJson(cyclic), CanonicalJsonError);
  const deep = JSON.parse('['.repeat(200000) + ']'.repeat(200000)) as JsonValue;
  assert.throws(() => canonicalJson(deep), CanonicalJsonError);
});

test('it should leave out the given top-level keys without touching nested ones', () => {
  const obj = { b: 1, signatures: { x: {} }, a: { signatures: 2 }, unsigned: { age: 1 } };
  assert.equal(canonicalJsonWithout(obj, new Set(['signatures', 'unsigned'])), '{"a":{"signatures":2},"b":1}');
  assert.ok('signatures' in obj);
});
