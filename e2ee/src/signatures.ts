// Signature checks on keys that clients upload. The objects are signed as the
// spec's "Signing JSON" describes (signatures and unsigned left out), with the
// signing entity being the user ID and the key ID `ed25519:<device ID>` (device
// keys) or `ed25519:<public key>` (cross-signing keys).
// Spec: appendices.md "Signing JSON"; modules/end_to_end_encryption.md "Uploading keys", "Cross-signing".
import { canonicalJsonWithout, type JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { publicKeyFromBase64 } from '@parley/federation/signing/ed25519Key';
import { verifyJsonSignature } from '@parley/federation/signing/signJson';
import type { CrossSigningKey, DeviceKeys, JsonMap, StoredSignature } from './types.js';

const UNSIGNED_PARTS: ReadonlySet<string> = new Set(['signatures', 'unsigned']);

/** Whether `obj` carries a valid ed25519 signature by `userId` with `keyId`, made by the base64 public key. */
export function verifySignature(obj: JsonMap, userId: string, keyId: string, publicKey: string): boolean {
  try {
    return verifyJsonSignature(obj as JsonObjectLike, userId, keyId, publicKeyFromBase64(publicKey));
  } catch {
    // A malformed public key or a non-canonical value (e.g. a float) cannot carry a valid signature.
    return false;
  }
}

/** The device's ed25519 key, as listed in its identity keys. */
export function deviceSigningKey(keys: DeviceKeys): string | undefined {
  const k = keys.keys[`ed25519:${keys.device_id}`];
  return typeof k === 'string' ? k : undefined;
}

/** The single `ed25519:<public key>` of a cross-signing key, or undefined if malformed. */
export function crossSigningPublicKey(key: CrossSigningKey): { keyId: string; publicKey: string } | undefined {
  const entries = Object.entries(key.keys);
  if (entries.length !== 1) return undefined;
  const [keyId, publicKey] = entries[0];
  if (typeof publicKey !== 'string' || keyId !== `ed25519:${publicKey}`) return undefined;
  return { keyId, publicKey };
}

/** Whether two objects are the same once their signatures and unsigned data are left out. */
export function sameSignedContent(a: JsonMap, b: JsonMap): boolean {
  try {
    return canonicalJsonWithout(a as JsonObjectLike, UNSIGNED_PARTS) === canonicalJsonWithout(b as JsonObjectLike, UNSIGNED_PARTS);
  } catch {
    return false;
  }
}

/** Whether two objects are identical, signatures included (unsigned left out). */
export function sameObject(a: JsonMap, b: JsonMap): boolean {
  const omit: ReadonlySet<string> = new Set(['unsigned']);
  try {
    return canonicalJsonWithout(a as JsonObjectLike, omit) === canonicalJsonWithout(b as JsonObjectLike, omit);
  } catch {
    return false;
  }
}

/** `obj` with the uploaded signatures merged into its own `signatures`. */
export function withSignatures<T extends { signatures?: Record<string, Record<string, string>> }>(obj: T, sigs: StoredSignature[]): T {
  if (sigs.length === 0) return obj;
  const merged: Record<string, Record<string, string>> = {};
  for (const [user, byKey] of Object.entries(obj.signatures ?? {})) merged[user] = { ...byKey };
  for (const s of sigs) (merged[s.signerUserId] ??= {})[s.signerKeyId] = s.signature;
  return { ...obj, signatures: merged };
}
