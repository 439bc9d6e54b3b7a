// Content hash: covers the full, unredacted event so a receiver can tell
// whether it was given the real content or a redacted copy.
// Spec: server-server-api.md "Calculating the content hash for an event".
import { createHash } from 'node:crypto';
import { Base64Error, decodeBase64, encodeBase64 } from './base64.js';
import { CanonicalJsonError, canonicalJsonWithout } from './canonicalJson.js';
import type { Pdu } from './types.js';

/** The members the content hash leaves out. */
export const NOT_HASHED: ReadonlySet<string> = new Set(['unsigned', 'signatures', 'hashes']);

/** Raw SHA-256 content hash (32 bytes). Throws CanonicalJsonError if the event has no canonical form. */
export function contentHashBytes(pdu: Pdu): Buffer {
  return createHash('sha256').update(canonicalJsonWithout(pdu, NOT_HASHED), 'utf8').digest();
}

/** The content hash as it goes in `hashes.sha256` (unpadded base64). */
export function contentHash(pdu: Pdu): string {
  return encodeBase64(contentHashBytes(pdu));
}

/** Whether `hashes.sha256` matches the event; false (not a throw) for anything malformed. */
export function hasValidContentHash(pdu: Pdu): boolean {
  return hasValidContentHashOf(pdu, undefined);
}

/**
 * As hasValidContentHash; `contentJson`, when the caller has it already, must be the canonical
 * JSON of this very `pdu` without `unsigned`, `signatures` and `hashes` (pduFormat.ts
 * checkPduFormatKeepingContent). Strict and lenient encodings agree wherever both succeed.
 */
export function hasValidContentHashOf(pdu: Pdu, contentJson: string | undefined): boolean {
  const claimed: unknown = pdu.hashes?.sha256;
  if (typeof claimed !== 'string') return false;
  try {
    const actual = contentJson === undefined ? contentHashBytes(pdu) : createHash('sha256').update(contentJson, 'utf8').digest();
    // Compare bytes, not strings, so a padded encoding of the right hash still matches.
    return decodeBase64(claimed).equals(actual);
  } catch (err) {
    if (err instanceof Base64Error || err instanceof CanonicalJsonError) return false;
    throw err;
  }
}

/** A copy of the event with `hashes` set to its content hash (any previous `hashes` replaced). */
export function withContentHash<T extends Pdu>(pdu: T): T {
  return { ...pdu, hashes: { sha256: contentHash(pdu) } };
}
