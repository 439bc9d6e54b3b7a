// Ed25519 server signing keys: generation, raw-seed import, and Synapse's
// signing-key file format ("ed25519 <version> <unpadded base64 seed>", one key per line).
// Spec: appendices.md "Signing Details"; server-server-api keys schema (key version `[a-zA-Z0-9_]`).
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { decodeBase64, encodeBase64 } from '../core/base64.js';

export type Ed25519KeyId = `ed25519:${string}`;

export interface SigningKey {
  /** `ed25519:<version>` */
  readonly keyId: Ed25519KeyId;
  /** The 32-byte private seed. */
  readonly seed: Buffer;
  /** Raw 32-byte public key, unpadded base64, as published in `verify_keys`. */
  readonly publicKeyBase64: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const KEY_VERSION = /^[A-Za-z0-9_]+$/;
// DER wrappers that turn a raw 32-byte seed / public key into PKCS#8 / SPKI (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const VERSION_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A fresh key; `version` defaults to `a_` + 4 random characters. */
export function generateSigningKey(version?: string): SigningKey {
  const v = version ?? 'a_' + Array.from(randomBytes(4), (b) => VERSION_ALPHABET[b % VERSION_ALPHABET.length]).join('');
  return signingKeyFromSeed(`ed25519:${v}`, randomBytes(32));
}

/** Build a key from its ID and 32-byte seed (raw bytes or unpadded/padded base64). */
export function signingKeyFromSeed(keyId: string, seed: string | Uint8Array): SigningKey {
  const version = keyId.startsWith('ed25519:') ? keyId.slice(8) : '';
  if (!KEY_VERSION.test(version)) throw new Error(`not an ed25519 key ID: ${keyId}`);
  const raw = typeof seed === 'string' ? decodeBase64(seed) : Buffer.from(seed);
  if (raw.length !== 32) throw new Error(`ed25519 seed must be 32 bytes, got ${raw.length}`);
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    keyId: keyId as Ed25519KeyId,
    seed: raw,
    publicKeyBase64: encodeBase64(spki.subarray(spki.length - 32)),
    privateKey,
    publicKey,
  };
}

/** One line of a Synapse-style signing key file (no trailing newline). */
export function serializeSigningKey(key: SigningKey): string {
  return `ed25519 ${key.keyId.slice(8)} ${encodeBase64(key.seed)}`;
}

/** Parse one `ed25519 <version> <seed>` line. Throws on anything else. */
export function parseSigningKey(line: string): SigningKey {
  const parts = line.trim().split(/\s+/);
  if (parts.length !== 3 || parts[0] !== 'ed25519') throw new Error('signing key line must be "ed25519 <version> <seed>"');
  return signingKeyFromSeed(`ed25519:${parts[1]}`, parts[2]);
}

/** Every key in a signing key file; blank lines are ignored. */
export function parseSigningKeyFile(text: string): SigningKey[] {
  return text.split('\n').filter((l) => l.trim() !== '').map(parseSigningKey);
}

/** A verification KeyObject from a raw 32-byte public key in (unpadded) base64. */
export function publicKeyFromBase64(b64: string): KeyObject {
  const raw = decodeBase64(b64);
  if (raw.length !== 32) throw new Error(`ed25519 public key must be 32 bytes, got ${raw.length}`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}
