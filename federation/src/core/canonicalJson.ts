// Canonical JSON: the byte form that hashes and signatures are computed over.
// Spec: appendices.md "Canonical JSON"; rooms/fragments/v6-canonical-json.md for strictness.
import type { JsonValue } from './types.js';

/** The value cannot be encoded as canonical JSON (float, out-of-range integer, non-JSON value…). */
export class CanonicalJsonError extends Error {
  override name = 'CanonicalJsonError';
}

export interface CanonicalJsonOptions {
  /** Room v6+: reject integers outside ±(2^53−1). Earlier versions tolerate them. */
  strict?: boolean;
}

/**
 * An object whose properties are JSON values; properties set to `undefined` are skipped,
 * as JSON.stringify does, so interfaces with optional fields (e.g. Pdu) can be passed directly.
 */
export type JsonObjectLike = { readonly [key: string]: JsonValue | undefined };

type Input = JsonValue | JsonObjectLike;

/** Strings that need no escaping: no `"`, `\\`, controls, or surrogates (checked separately). */
const VERBATIM = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;
/** Lone surrogates have no UTF-8 encoding, so no canonical form. */
const LONE_SURROGATE = /\p{Cs}/u;
/** Only keys with code units ≥ U+D800 can sort differently by UTF-16 unit vs. code point. */
const HIGH_UNIT = /[\uD800-\uFFFF]/;

/** Encode `value` as a canonical JSON string. Throws CanonicalJsonError if it has no canonical form. */
export function canonicalJson(value: Input, opts?: CanonicalJsonOptions): string {
  return guarded(() => encode(value, opts?.strict === true));
}

/** Canonical JSON as UTF-8 bytes, ready for hashing or signing. */
export function canonicalJsonBytes(value: Input, opts?: CanonicalJsonOptions): Buffer {
  return Buffer.from(canonicalJson(value, opts), 'utf8');
}

/**
 * Canonical JSON of an object with some top-level keys left out, without copying it
 * (the hashing and signing algorithms all drop `signatures`/`unsigned`/`hashes` first).
 */
export function canonicalJsonWithout(
  obj: JsonObjectLike,
  omit: ReadonlySet<string>,
  opts?: CanonicalJsonOptions,
): string {
  return guarded(() => encodeObject(obj, opts?.strict === true, omit));
}

function guarded(run: () => string): string {
  try {
    return run();
  } catch (err) {
    // Deep nesting or a cycle overflows the stack; report it as an encoding failure.
    if (err instanceof RangeError) throw new CanonicalJsonError('value is nested too deeply or is cyclic');
    throw err;
  }
}

function encode(v: unknown, strict: boolean): string {
  switch (typeof v) {
    case 'string':
      return encodeString(v);
    case 'number':
      return encodeNumber(v, strict);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return encodeArray(v, strict);
      return encodeObject(v as JsonObjectLike, strict, undefined);
    default:
      throw new CanonicalJsonError(`cannot encode a value of type ${typeof v}`);
  }
}

function encodeString(s: string): string {
  // Fast path: nothing to escape and no surrogates, so the text goes in verbatim.
  if (VERBATIM.test(s)) return '"' + s + '"';
  // JSON.stringify already emits the shortest escapes the grammar requires
  // (\b \t \n \f \r \" \\ and lowercase \u00XX for other controls); lone
  // surrogates are the only thing it escapes that canonical JSON forbids.
  if (LONE_SURROGATE.test(s)) throw new CanonicalJsonError('string contains a lone surrogate');
  return JSON.stringify(s);
}

function encodeNumber(n: number, strict: boolean): string {
  if (Number.isSafeInteger(n)) return String(n); // String(-0) is "0", as required
  if (!Number.isInteger(n)) throw new CanonicalJsonError(`non-integer number ${n}`);
  if (strict) throw new CanonicalJsonError(`integer ${n} is outside ±(2^53−1)`);
  // Lenient versions: plain digits even where String() would switch to exponent form.
  return BigInt(n).toString();
}

function encodeArray(a: readonly unknown[], strict: boolean): string {
  if (a.length === 0) return '[]';
  let out = '[' + encode(a[0], strict);
  for (let i = 1; i < a.length; i++) out += ',' + encode(a[i], strict);
  return out + ']';
}

function encodeObject(o: JsonObjectLike, strict: boolean, omit: ReadonlySet<string> | undefined): string {
  const keys = Object.keys(o);
  if (keys.length > 1) sortByCodePoint(keys);
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || (omit !== undefined && omit.has(k))) continue;
    if (!first) out += ',';
    out += encodeString(k) + ':' + encode(v, strict);
    first = false;
  }
  return out + '}';
}

function sortByCodePoint(keys: string[]): void {
  // UTF-16 code-unit order (what `<` and the default sort use) equals code-point
  // order unless astral and U+E000–U+FFFF keys meet; fix those up afterwards.
  if (keys.length <= 16) insertionSort(keys);
  else keys.sort();
  for (const k of keys) {
    if (HIGH_UNIT.test(k)) {
      keys.sort(compareCodePoints);
      return;
    }
  }
}

/** Objects in events are small; this beats Array.prototype.sort for them. */
function insertionSort(a: string[]): void {
  for (let i = 1; i < a.length; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) belong above U+E000–U+FFFF: shift both ranges.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
