// Checking the identity server's signature on a third-party invite's `signed` block.
// Spec: rooms/v12.md auth rule 5.4.1.7; client-server-api m.room.third_party_invite
// (`public_key`, `public_keys`); appendices.md "Checking for a Signature".
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { Base64Error, decodeBase64, decodeBase64Url } from '../base64.js';
import { CanonicalJsonError, canonicalJsonWithout, type JsonObjectLike } from '../canonicalJson.js';
import type { JsonObject } from '../types.js';

const NOT_SIGNED: ReadonlySet<string> = new Set(['signatures', 'unsigned']);

/** Every public key an m.room.third_party_invite event offers (`public_key` and `public_keys[].public_key`). */
export function thirdPartyPublicKeys(content: JsonObject): string[] {
  const out: string[] = [];
  if (typeof content.public_key === 'string') out.push(content.public_key);
  if (Array.isArray(content.public_keys)) {
    for (const entry of content.public_keys) {
      if (isObject(entry) && typeof entry.public_key === 'string') out.push(entry.public_key);
    }
  }
  return out;
}

/** True if any ed25519 signature in `signed.signatures` verifies under any of `publicKeys`. */
export function verifyThirdPartySigned(signed: JsonObjectLike, publicKeys: readonly string[]): boolean {
  const sigs = collectSignatures(signed.signatures);
  if (sigs.length === 0) return false;
  let message: Buffer;
  try {
    message = Buffer.from(canonicalJsonWithout(signed, NOT_SIGNED), 'utf8');
  } catch (err) {
    if (err instanceof CanonicalJsonError) return false;
    throw err;
  }
  const keys = publicKeys.map(toKeyObject).filter((k): k is KeyObject => k !== undefined);
  return sigs.some((sig) => keys.some((key) => verify(null, message, key, sig)));
}

function collectSignatures(value: unknown): Buffer[] {
  const out: Buffer[] = [];
  if (!isObject(value)) return out;
  for (const byKey of Object.values(value)) {
    if (!isObject(byKey)) continue;
    for (const [keyId, sig] of Object.entries(byKey)) {
      if (!keyId.startsWith('ed25519:') || typeof sig !== 'string') continue;
      const bytes = decode(sig);
      if (bytes?.length === 64) out.push(bytes);
    }
  }
  return out;
}

function toKeyObject(b64: string): KeyObject | undefined {
  const raw = decode(b64);
  if (raw?.length !== 32) return undefined;
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Identity servers publish either base64 alphabet; accept both. */
function decode(s: string): Buffer | undefined {
  for (const fn of [decodeBase64, decodeBase64Url]) {
    try {
      return fn(s);
    } catch (err) {
      if (!(err instanceof Base64Error)) throw err;
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
