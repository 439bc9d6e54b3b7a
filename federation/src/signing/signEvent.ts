// Hashing and signing events. Signatures cover the redacted event (so they
// survive redaction); the content hash inside it covers everything else.
// Spec: server-server-api.md "Signing Events", "Adding hashes and signatures to outgoing events",
// "Validating hashes and signatures on received events".
import type { KeyObject } from 'node:crypto';
import { withContentHash } from '../core/hashes.js';
import { redact } from '../core/redaction.js';
import type { RoomVersionRules } from '../core/roomVersions.js';
import type { Pdu } from '../core/types.js';
import type { SigningKey } from './ed25519Key.js';
import { computeSignature, verifyJsonSignature, verifyJsonSignatureAsync, withSignature } from './signJson.js';

/** Set the content hash, then sign the redacted form; the full content is kept in the result. */
export function hashAndSignEvent<T extends Pdu>(pdu: T, rules: RoomVersionRules, serverName: string, key: SigningKey): T {
  return signEvent(withContentHash(pdu), rules, serverName, key);
}

/**
 * Add our signature without touching `hashes` — for co-signing an event another
 * server built (e.g. a join we accept via send_join, or an invite to our user).
 */
export function signEvent<T extends Pdu>(pdu: T, rules: RoomVersionRules, serverName: string, key: SigningKey): T {
  return withSignature(pdu, serverName, key.keyId, computeSignature(redact(pdu, rules), key));
}

/** Whether `serverName` validly signed the event with `keyId`; holds for the full and the redacted event alike. */
export function verifyEventSignature(
  pdu: Pdu,
  rules: RoomVersionRules,
  serverName: string,
  keyId: string,
  publicKey: KeyObject,
): boolean {
  return verifyJsonSignature(redact(pdu, rules), serverName, keyId, publicKey);
}

/** As verifyEventSignature, with the Ed25519 check on the thread pool (see verifyJsonSignatureAsync). */
export function verifyEventSignatureAsync(
  pdu: Pdu,
  rules: RoomVersionRules,
  serverName: string,
  keyId: string,
  publicKey: KeyObject,
): Promise<boolean> {
  return verifyJsonSignatureAsync(redact(pdu, rules), serverName, keyId, publicKey);
}
