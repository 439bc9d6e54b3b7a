// Checking a server key document (`/_matrix/key/v2/server`, or one relayed by a
// notary) and folding it into what we already trust.
// Spec: server-server-api.md "Publishing Keys" and keys.yaml; rooms v5-signing-requirements
// (use the lesser of valid_until_ts and 7 days into the future).
import type { KeyObject } from 'node:crypto';
import type { JsonObject } from '../core/types.js';
import type { StoredServerKeys, StoredVerifyKey } from '../ports.js';
import { publicKeyFromBase64 } from './ed25519Key.js';
import { verifyJsonSignature } from './signJson.js';

export const MAX_KEY_VALIDITY_MS = 7 * 24 * 3_600_000;

const ED25519_KEY_ID = /^ed25519:[A-Za-z0-9_]+$/;

export interface ServerKeyDocument {
  serverName: string;
  validUntilTs: number;
  /** keyId → base64 public key (ed25519 only; other algorithms cannot be checked, so are skipped). */
  verifyKeys: Record<string, string>;
  oldVerifyKeys: Record<string, { key: string; expiredTs: number }>;
  /** The document with only `serverName`'s own signatures, as we store and relay it. */
  document: JsonObject;
}

export type DocumentCheck = { ok: true; doc: ServerKeyDocument } | { ok: false; error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validate a key document for `expectedServer`: right `server_name`, well-formed, and
 * signed by every ed25519 key in `verify_keys` (each published key is proven held).
 */
export function checkServerKeyDocument(raw: unknown, expectedServer: string): DocumentCheck {
  if (!isObject(raw)) return { ok: false, error: 'key document is not an object' };
  if (raw.server_name !== expectedServer) return { ok: false, error: `server_name is not ${expectedServer}` };
  if (!Number.isSafeInteger(raw.valid_until_ts)) return { ok: false, error: 'valid_until_ts missing or not an integer' };
  if (!isObject(raw.verify_keys)) return { ok: false, error: 'verify_keys missing' };

  const verifyKeys: Record<string, string> = {};
  const publicKeys: [string, KeyObject][] = [];
  for (const [keyId, entry] of Object.entries(raw.verify_keys)) {
    if (!keyId.startsWith('ed25519:')) continue;
    if (!ED25519_KEY_ID.test(keyId) || !isObject(entry) || typeof entry.key !== 'string') {
      return { ok: false, error: `malformed verify key ${keyId}` };
    }
    try {
      publicKeys.push([keyId, publicKeyFromBase64(entry.key)]);
    } catch {
      return { ok: false, error: `undecodable verify key ${keyId}` };
    }
    verifyKeys[keyId] = entry.key;
  }
  if (publicKeys.length === 0) return { ok: false, error: 'no ed25519 verify keys' };

  const oldVerifyKeys: ServerKeyDocument['oldVerifyKeys'] = {};
  if (isObject(raw.old_verify_keys)) {
    for (const [keyId, entry] of Object.entries(raw.old_verify_keys)) {
      // A malformed old key only costs us that key; it cannot sign requests anyway.
      if (!ED25519_KEY_ID.test(keyId) || !isObject(entry) || typeof entry.key !== 'string') continue;
      if (!Number.isSafeInteger(entry.expired_ts)) continue;
      oldVerifyKeys[keyId] = { key: entry.key, expiredTs: entry.expired_ts as number };
    }
  }

  const sigs = isObject(raw.signatures) && isObject(raw.signatures[expectedServer]) ? raw.signatures[expectedServer] : undefined;
  if (sigs === undefined) return { ok: false, error: 'not signed by its server' };
  const document = { ...(raw as JsonObject), signatures: { [expectedServer]: sigs as Record<string, string> } } as JsonObject;
  for (const [keyId, publicKey] of publicKeys) {
    if (!verifyJsonSignature(document, expectedServer, keyId, publicKey)) {
      return { ok: false, error: `not correctly signed by ${keyId}` };
    }
  }
  return {
    ok: true,
    doc: { serverName: expectedServer, validUntilTs: raw.valid_until_ts as number, verifyKeys, oldVerifyKeys, document },
  };
}

/**
 * Merge a verified document received at `receivedTs` into the stored record. Keys are
 * kept forever (old events need them); the newest document is kept for relaying.
 */
export function mergeServerKeys(prev: StoredServerKeys | undefined, doc: ServerKeyDocument, receivedTs: number): StoredServerKeys {
  const keys: Record<string, StoredVerifyKey> = { ...prev?.keys };
  const validUntil = Math.min(doc.validUntilTs, receivedTs + MAX_KEY_VALIDITY_MS);
  // A key ID that now names a different key (a server that lost and regenerated its
  // key) takes the new key, as in Synapse; otherwise validity only ever grows.
  for (const [keyId, old] of Object.entries(doc.oldVerifyKeys)) {
    const same = keys[keyId]?.key === old.key ? keys[keyId] : undefined;
    keys[keyId] = { ...same, key: old.key, expiredTs: Math.max(same?.expiredTs ?? 0, old.expiredTs) };
  }
  for (const [keyId, key] of Object.entries(doc.verifyKeys)) {
    const same = keys[keyId]?.key === key ? keys[keyId] : undefined;
    keys[keyId] = { key, validUntilTs: Math.max(same?.validUntilTs ?? 0, validUntil) };
  }
  const newer = prev?.document === undefined || receivedTs >= prev.fetchedTs;
  return {
    serverName: doc.serverName,
    keys,
    document: newer ? doc.document : prev.document,
    fetchedTs: newer ? receivedTs : prev.fetchedTs,
  };
}

/** Whether a stored key may verify something signed at `atTs` (0: room versions 1–4, no limit). */
export function keyValidAt(key: StoredVerifyKey, atTs: number): boolean {
  return Math.max(key.validUntilTs ?? -Infinity, key.expiredTs ?? -Infinity) >= atTs;
}

/** Whether a stored key may sign requests now: listed in the newest document's verify_keys and unexpired. */
export function keyUsableForRequests(record: StoredServerKeys, keyId: string, now: number): boolean {
  const key = record.keys[keyId];
  if (key === undefined || key.validUntilTs === undefined || key.validUntilTs < now) return false;
  const listed = record.document?.verify_keys;
  return !isObject(listed) || Object.hasOwn(listed, keyId);
}
