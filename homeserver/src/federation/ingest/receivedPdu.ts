// Step 1-3 of "Checks performed on receipt of a PDU" (server-server-api.md), for one
// PDU whose room version is known: the format, the signatures of the servers that must
// sign it, and the content hash (a mismatch means we hold a redacted copy, so we redact).
// Spec: server-server-api.md "Validating hashes and signatures on received events";
// rooms/v3.md+ (only the sender's server signs), rooms/v1.md (also the event ID's server);
// rooms/v8.md (join_authorised_via_users_server's server signs restricted joins).
import { hasValidContentHashOf } from '@parley/federation/core/hashes';
import { eventIdOf, eventIdOfForm, referenceForm, roomIdOf, type ReferenceForm } from '@parley/federation/core/eventId';
import { fromWire, toWire } from '@parley/federation/core/eventRefs';
import { serverNameOf } from '@parley/federation/core/ids';
import { checkPduFormatKeepingContent } from '@parley/federation/core/pduFormat';
import { redact } from '@parley/federation/core/redaction';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObjectLike } from '@parley/federation/core/canonicalJson';
import type { Pdu, RoomEvent } from '@parley/federation/core/types';
import { keyValidityTs } from '@parley/federation/signing/keyRing';

/** The key ring's signature check (KeyRing.verifyJsonSignedBy). */
export interface SignatureChecker {
  /** `signedData`: the bytes the signatures cover, when already encoded (see ReferenceForm). */
  verifyJsonSignedBy(obj: JsonObjectLike, serverName: string, atTs: number, signedData?: Buffer): Promise<boolean>;
}

/**
 * A parsed PDU (v3+) keeps the reference form its event ID was hashed from: the same bytes
 * are what its signatures cover, so verifyPdu does not redact and encode it again.
 */
export interface ParsedEvent extends RoomEvent {
  referenceForm?: ReferenceForm;
  /**
   * The content-hash encoding the format check made of this PDU (v3+, where the PDU is the
   * wire object itself), so verifyPdu does not encode it again. Valid only for `referenceForm.of`.
   */
  contentJson?: string;
}

/** A PDU that passed the format, signature and hash checks. */
export interface VerifiedPdu extends RoomEvent {
  rules: RoomVersionRules;
  /** Servers other than the sender's whose signatures were checked and found valid (restricted joins). */
  alsoSignedBy: Set<string>;
  /** The content hash did not match, so the redacted form is kept. */
  redactedOnReceipt: boolean;
}

export type Parsed = { ok: true; event: ParsedEvent } | { ok: false; eventId?: string; error: string };

/**
 * Format check and event ID. The ID is reported even for malformed PDUs when it can be computed.
 * v1/v2 reference pairs become bare IDs here (the boundary), their hashes kept in `refHashes`.
 */
export function parsePdu(raw: unknown, rules: RoomVersionRules): Parsed {
  const { problem, contentJson } = checkPduFormatKeepingContent(raw, rules);
  let eventId: string | undefined;
  let form: ReferenceForm | undefined;
  try {
    // v1/v2 IDs are carried, not hashed: nothing to share with the signature check there.
    if (rules.eventIdFormat === 'v1') eventId = eventIdOf(raw as Pdu, rules);
    else eventId = eventIdOfForm((form = referenceForm(raw as Pdu, rules)), rules);
  } catch {
    eventId = undefined;
  }
  if (problem !== undefined) return { ok: false, ...(eventId ? { eventId } : {}), error: `Invalid PDU: ${problem}` };
  const { pdu, refHashes } = fromWire(raw as Pdu, rules);
  const roomId = roomIdOf(pdu, rules);
  if (eventId === undefined || roomId === undefined) return { ok: false, error: 'Invalid PDU: no event or room ID' };
  return { ok: true, event: { eventId, roomId, pdu, ...(refHashes ? { refHashes } : {}), ...(form ? { referenceForm: form, ...(contentJson !== undefined ? { contentJson } : {}) } : {}) } };
}

/** Signature and hash checks (steps 2 and 3). */
export async function verifyPdu(
  parsed: ParsedEvent,
  rules: RoomVersionRules,
  keys: SignatureChecker,
): Promise<{ ok: true; event: VerifiedPdu } | { ok: false; error: string }> {
  const { pdu, refHashes } = parsed;
  const form = parsed.referenceForm;
  // Hashes and signatures cover the wire form (v1/v2: with the reference pairs). A reference
  // form (v3+, no pairs) is used only if it was computed from this very PDU object.
  const shared = form !== undefined && form.of === pdu && refHashes === undefined ? form : undefined;
  const redacted = shared?.redacted ?? redact(pdu, rules);
  const redactedWire = toWire(redacted, refHashes);
  const signedData = shared ? Buffer.from(shared.json, 'utf8') : undefined;
  const atTs = keyValidityTs(rules, pdu.origin_server_ts);
  const senderServer = serverNameOf(pdu.sender);
  if (senderServer === undefined) return { ok: false, error: 'Invalid sender' };
  const required = [senderServer];
  if (rules.eventIdFormat === 'v1') {
    const idServer = serverNameOf(parsed.eventId);
    if (idServer !== undefined && idServer !== senderServer) required.push(idServer);
  }
  const checks = await Promise.all(required.map((s) => keys.verifyJsonSignedBy(redactedWire as JsonObjectLike, s, atTs, signedData)));
  const unsigned = required.filter((_, i) => !checks[i]);
  if (unsigned.length > 0) return { ok: false, error: `Missing or invalid signature of ${unsigned.join(', ')}` };

  const alsoSignedBy = new Set<string>();
  const via = pdu.content.join_authorised_via_users_server;
  const viaServer = typeof via === 'string' && rules.restrictedJoins ? serverNameOf(via) : undefined;
  if (viaServer !== undefined && !required.includes(viaServer) && (await keys.verifyJsonSignedBy(redactedWire as JsonObjectLike, viaServer, atTs, signedData))) {
    alsoSignedBy.add(viaServer);
  }
  const hashOk = hasValidContentHashOf(toWire(pdu, refHashes), shared ? parsed.contentJson : undefined);
  // `unsigned` is the sender's annotation, not part of the event: we compute our own (the
  // redacted form never has one). Copied only when there is one to drop.
  const kept = hashOk ? withoutUnsigned(pdu) : redacted;
  const verified: VerifiedPdu =
    form === undefined
      ? { ...parsed, pdu: kept, rules, alsoSignedBy, redactedOnReceipt: !hashOk }
      : // From parsePdu: these are all its fields (the reference form is not carried on).
        { eventId: parsed.eventId, roomId: parsed.roomId, pdu: kept, ...(refHashes ? { refHashes } : {}), rules, alsoSignedBy, redactedOnReceipt: !hashOk };
  return { ok: true, event: verified };
}

function withoutUnsigned(pdu: Pdu): Pdu {
  if (!Object.hasOwn(pdu, 'unsigned')) return pdu;
  const { unsigned: _unsigned, ...kept } = pdu;
  return kept as Pdu;
}

/** Auth option for rule "join_authorised_via_users_server must have signed". */
export function signedByFor(ev: VerifiedPdu): (pdu: Pdu, serverName: string) => boolean {
  return (pdu, serverName) => (pdu === ev.pdu && ev.alsoSignedBy.has(serverName)) || serverName === serverNameOf(ev.pdu.sender);
}
