// Signing JSON objects and checking their signatures.
// Spec: appendices.md "Signing JSON", "Signing Details", "Checking for a Signature".
import { sign, verify, type KeyObject } from 'node:crypto';
import { Base64Error, decodeBase64, encodeBase64 } from '../core/base64.js';
import { CanonicalJsonError, canonicalJsonWithout, type JsonObjectLike } from '../core/canonicalJson.js';
import type { Signatures } from '../core/types.js';
import type { SigningKey } from './ed25519Key.js';

/** Neither is covered by signatures, so intermediaries can add to them. */
const NOT_SIGNED: ReadonlySet<string> = new Set(['signatures', 'unsigned']);
const ED25519_SIG_BYTES = 64;

/** The unpadded base64 signature of `obj` (without its `signatures` and `unsigned`). */
export function computeSignature(obj: JsonObjectLike, key: SigningKey): string {
  const bytes = Buffer.from(canonicalJsonWithout(obj, NOT_SIGNED), 'utf8');
  return encodeBase64(sign(null, bytes, key.privateKey));
}

/** A copy of `obj` with `signatures` extended by `sig`; other servers' and keys' signatures are kept. */
export function withSignature<T extends JsonObjectLike>(
  obj: T,
  serverName: string,
  keyId: string,
  sig: string,
): T & { signatures: Signatures } {
  const existing = isObject(obj.signatures) ? (obj.signatures as Signatures) : {};
  const mine = isObject(existing[serverName]) ? existing[serverName] : {};
  return { ...obj, signatures: { ...existing, [serverName]: { ...mine, [keyId]: sig } } };
}

/** Sign `obj` as `serverName`; returns a signed copy (`unsigned` and existing signatures preserved). */
export function signJson<T extends JsonObjectLike>(obj: T, serverName: string, key: SigningKey): T & { signatures: Signatures } {
  return withSignature(obj, serverName, key.keyId, computeSignature(obj, key));
}

/**
 * Whether `obj` carries a valid signature by `serverName` with `keyId`. Any failure
 * (missing, malformed, unknown algorithm, unencodable object) is false.
 */
export function verifyJsonSignature(obj: JsonObjectLike, serverName: string, keyId: string, publicKey: KeyObject): boolean {
  const prepared = prepareVerification(obj, serverName, keyId);
  return prepared !== undefined && verify(null, prepared.data, publicKey, prepared.sig);
}

/**
 * As verifyJsonSignature, but the Ed25519 check runs on libuv's thread pool, so a
 * batch of events (e.g. one federation transaction) is verified on several cores.
 * `signedData`, if the caller has it already, must be signedBytesOf(obj).
 */
export function verifyJsonSignatureAsync(
  obj: JsonObjectLike,
  serverName: string,
  keyId: string,
  publicKey: KeyObject,
  signedData?: Buffer,
): Promise<boolean> {
  const prepared = prepareVerification(obj, serverName, keyId, signedData);
  if (prepared === undefined) return Promise.resolve(false);
  return new Promise((resolve, reject) => {
    verify(null, prepared.data, publicKey, prepared.sig, (err, ok) => (err ? reject(err) : resolve(ok)));
  });
}

/** The bytes a signature of `obj` covers. Throws CanonicalJsonError if it has no canonical form. */
export function signedBytesOf(obj: JsonObjectLike): Buffer {
  return Buffer.from(canonicalJsonWithout(obj, NOT_SIGNED), 'utf8');
}

/** The signed bytes and decoded signature, or undefined if the check already fails. */
function prepareVerification(obj: JsonObjectLike, serverName: string, keyId: string, signedData?: Buffer): { data: Buffer; sig: Buffer } | undefined {
  if (!keyId.startsWith('ed25519:')) return undefined;
  const sigs = obj.signatures;
  if (!isObject(sigs)) return undefined;
  const forServer = Object.hasOwn(sigs, serverName) ? sigs[serverName] : undefined;
  if (!isObject(forServer)) return undefined;
  const sig = Object.hasOwn(forServer, keyId) ? forServer[keyId] : undefined;
  if (typeof sig !== 'string') return undefined;
  try {
    const sigBytes = decodeBase64(sig);
    if (sigBytes.length !== ED25519_SIG_BYTES) return undefined;
    return { data: signedData ?? signedBytesOf(obj), sig: sigBytes };
  } catch (err) {
    if (err instanceof Base64Error || err instanceof CanonicalJsonError) return undefined;
    throw err;
  }
}

/** The ed25519 signatures `serverName` put on `obj`; other algorithms are ones we cannot check, so omitted. */
export function signaturesOf(obj: JsonObjectLike, serverName: string): { keyId: string; sig: string }[] {
  const sigs = obj.signatures;
  if (!isObject(sigs) || !Object.hasOwn(sigs, serverName)) return [];
  const forServer = sigs[serverName];
  if (!isObject(forServer)) return [];
  const out: { keyId: string; sig: string }[] = [];
  for (const [keyId, sig] of Object.entries(forServer)) {
    if (keyId.startsWith('ed25519:') && typeof sig === 'string') out.push({ keyId, sig });
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
