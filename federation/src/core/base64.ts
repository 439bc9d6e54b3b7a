// Unpadded base64, standard and URL-safe alphabets.
// Spec: appendices.md "Unpadded Base64" and "URL-safe unpadded Base64".

/** The input is not base64 in the expected alphabet. */
export class Base64Error extends Error {
  override name = 'Base64Error';
}

// Buffer's own decoder silently skips bad characters and mixes alphabets; we
// validate first so a malformed signature or key fails instead of decoding to garbage.
const STD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Standard alphabet, no `=` padding. */
export function encodeBase64(bytes: Uint8Array): string {
  const s = asBuffer(bytes).toString('base64');
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 0x3d) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** URL-safe alphabet (`-`, `_`), no padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64url'); // Node emits it unpadded already
}

/** Decode standard base64, with or without padding. Throws Base64Error on malformed input. */
export function decodeBase64(s: string): Buffer {
  return Buffer.from(unpad(s, STD), 'base64');
}

/** Decode URL-safe base64, with or without padding. Throws Base64Error on malformed input. */
export function decodeBase64Url(s: string): Buffer {
  return Buffer.from(unpad(s, URL_SAFE), 'base64url');
}

/** Strip valid padding and check the alphabet and length; the spec asks decoders to accept both forms. */
function unpad(s: string, alphabet: RegExp): string {
  let body = s;
  if (s.endsWith('=')) {
    body = s.endsWith('==') ? s.slice(0, -2) : s.slice(0, -1);
    if (s.length % 4 !== 0) throw new Base64Error('padded base64 must be a multiple of 4 characters');
  }
  if (body.length % 4 === 1) throw new Base64Error('base64 length is impossible');
  if (!alphabet.test(body)) throw new Base64Error('invalid base64 character');
  return body;
}
