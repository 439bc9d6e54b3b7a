// Step 1-3 of "Checks performed on receipt of a PDU" (server-server-api.md), for one
// PDU whose room version is known: the format, the signatures of the servers that must
// sign it, and the content hash (a mismatch means we hold a redacted copy, so we redact).
// Spec: server-server-api.md "Validating hashes and signatures on received events";
// rooms/v3.md+ (only the sender's server signs), rooms/v1.md (also the event ID's server);
// rooms/v8.md (join_authorised_via_users_server's server signs restricted joins).
import { hasValidContentHash } from '@parley/federation/core/hashes';
import { eventIdOf, roomIdOf } from '@parley/federation/core/eventId';
import { fromWire, toWire } from '@parley/federation/core/eventRefs';
import { serverNameOf } from '@parley/federation/core/ids';
import { checkPduFormat } from '@parley/federation/core/pduFormat';
import { redact } from '@parley/federation/core/redaction';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObjectLike } from '@parley/federation/core/canonicalJson';
import type { Pdu, RoomEvent } from '@parley/federation/core/types';
import { keyValidityTs } from '@parley/federation/signing/keyRing';

/** The key ring's signature check (KeyRing.verifyJsonSignedBy). */
export interface SignatureChecker {
  verifyJsonSignedBy(obj: JsonObjectLike, serverName: string, atTs: number): Promise<boolean>;
}

/** A PDU that passed the format, signature and hash checks. */
export interface VerifiedPdu extends RoomEvent {
  rules: RoomVersionRules;
  /** Servers other than the sender's whose signatures were checked and found valid (restricted joins). */
  alsoSignedBy: Set<string>;
  /** The content hash did not match, so the redacted form is kept. */
  redactedOnReceipt: boolean;
}

export type Parsed = { ok: true; event: RoomEvent } | { ok: false; eventId?: string; error: string };

/**
 * Format check and event ID. The ID is reported even for malformed PDUs when it can be computed.
 * v1/v2 reference pairs become bare IDs here (the boundary), their hashes kept in `refHashes`.
 */
export function parsePdu(raw: unknown, rules: RoomVersionRules): Parsed {
  const problem = checkPduFormat(raw, rules);
  let eventId: string | undefined;
  try {
    eventId = eventIdOf(raw as Pdu, rules);
  } catch {
    eventId = undefined;
  }
  if (problem !== undefined) return { ok: false, ...(eventId ? { eventId } : {}), error: `Invalid PDU: ${problem}` };
  const { pdu, refHashes } = fromWire(raw as Pdu, rules);
  const roomId = roomIdOf(pdu, rules);
  if (eventId === undefined || roomId === undefined) return { ok: false, error: 'Invalid PDU: no event or room ID' };
  return { ok: true, event: { eventId, roomId, pdu, ...(refHashes ? { refHashes } : {}) } };
}

/** Signature and hash checks (steps 2 and 3). */
export async function verifyPdu(
  event: RoomEvent,
  rules: RoomVersionRules,
  keys: SignatureChecker,
): Promise<{ ok: true; event: VerifiedPdu } | { ok: false; error: string }> {
  const { pdu } = event;
  // Hashes and signatures cover the wire form (v1/v2: with the reference pairs).
  const redacted = redact(pdu, rules);
  const redactedWire = toWire(redacted, event.refHashes);
  const atTs = keyValidityTs(rules, pdu.origin_server_ts);
  const required = new Set<string>();
  const senderServer = serverNameOf(pdu.sender);
  if (senderServer === undefined) return { ok: false, error: 'Invalid sender' };
  required.add(senderServer);
  if (rules.eventIdFormat === 'v1') {
    const idServer = serverNameOf(event.eventId);
    if (idServer !== undefined) required.add(idServer);
  }
  const checks = await Promise.all([...required].map((s) => keys.verifyJsonSignedBy(redactedWire as JsonObjectLike, s, atTs)));
  const unsigned = [...required].filter((_, i) => !checks[i]);
  if (unsigned.length > 0) return { ok: false, error: `Missing or invalid signature of ${unsigned.join(', ')}` };

  const alsoSignedBy = new Set<string>();
  const via = pdu.content.join_authorised_via_users_server;
  const viaServer = typeof via === 'string' && rules.restrictedJoins ? serverNameOf(via) : undefined;
  if (viaServer !== undefined && !required.has(viaServer) && (await keys.verifyJsonSignedBy(redactedWire as JsonObjectLike, viaServer, atTs))) {
    alsoSignedBy.add(viaServer);
  }
  const hashOk = hasValidContentHash(toWire(pdu, event.refHashes));
  // `unsigned` is the sender's annotation, not part of the event: we compute our own.
  const { unsigned: _unsigned, ...kept } = hashOk ? pdu : redacted;
  return {
    ok: true,
    event: { ...event, pdu: kept as Pdu, rules, alsoSignedBy, redactedOnReceipt: !hashOk },
  };
}

/** Auth option for rule "join_authorised_via_users_server must have signed". */
export function signedByFor(ev: VerifiedPdu): (pdu: Pdu, serverName: string) => boolean {
  return (pdu, serverName) => (pdu === ev.pdu && ev.alsoSignedBy.has(serverName)) || serverName === serverNameOf(ev.pdu.sender);
}
