// Event and room IDs derived from an event's reference hash.
// Spec: server-server-api.md "Calculating the reference hash for an event";
// rooms/fragments/v1-event-ids.md, rooms/v3.md "Event IDs", fragments/v4-event-ids.md;
// appendices.md "Room IDs" and rooms/v12.md for hash-derived room IDs.
import { createHash } from 'node:crypto';
import { encodeBase64, encodeBase64Url } from './base64.js';
import { canonicalJsonWithout } from './canonicalJson.js';
import { redact } from './redaction.js';
import type { RoomVersionRules } from './roomVersions.js';
import type { Pdu } from './types.js';

const NOT_REFERENCED: ReadonlySet<string> = new Set(['signatures', 'unsigned']);

/**
 * The redacted event and its canonical JSON without `signatures` and `unsigned`: what the
 * reference hash is computed over, and also exactly the bytes the event's signatures cover
 * (appendices.md "Checking for a Signature" on the redacted event), so one encoding serves both.
 */
export interface ReferenceForm {
  /** The event it was computed from (a form is only valid for that very object). */
  readonly of: Pdu;
  readonly redacted: Pdu;
  readonly json: string;
}

/** Throws CanonicalJsonError if the event has no canonical form. */
export function referenceForm(pdu: Pdu, rules: RoomVersionRules): ReferenceForm {
  const redacted = redact(pdu, rules);
  return { of: pdu, redacted, json: canonicalJsonWithout(redacted, NOT_REFERENCED) };
}

/** Raw SHA-256 reference hash (32 bytes) over the redacted event. Throws CanonicalJsonError if not encodable. */
export function referenceHash(pdu: Pdu, rules: RoomVersionRules): Buffer {
  return referenceHashOfForm(referenceForm(pdu, rules));
}

function referenceHashOfForm(form: ReferenceForm): Buffer {
  return createHash('sha256').update(form.json, 'utf8').digest();
}

/** The event's ID: carried in the event for v1/v2, otherwise `$` + its reference hash. */
export function eventIdOf(pdu: Pdu, rules: RoomVersionRules): string {
  if (rules.eventIdFormat === 'v1') {
    if (typeof pdu.event_id !== 'string') throw new Error('room version 1/2 event has no event_id');
    return pdu.event_id;
  }
  return eventIdOfForm(referenceForm(pdu, rules), rules);
}

/** The event ID (v3+: hash-derived) of the event a reference form was computed from. */
export function eventIdOfForm(form: ReferenceForm, rules: RoomVersionRules): string {
  switch (rules.eventIdFormat) {
    case 'v1':
      return eventIdOf(form.of, rules);
    case 'v3':
      return '$' + encodeBase64(referenceHashOfForm(form));
    case 'v4':
      return '$' + encodeBase64Url(referenceHashOfForm(form));
  }
}

/** The room ID a create event establishes: its `room_id`, or in v12 `!` + its reference hash. */
export function roomIdOfCreateEvent(createPdu: Pdu, rules: RoomVersionRules): string {
  if (rules.roomIdIsCreateEventHash) return '!' + encodeBase64Url(referenceHash(createPdu, rules));
  if (typeof createPdu.room_id !== 'string') throw new Error('create event has no room_id');
  return createPdu.room_id;
}

/** The room an event belongs to, or undefined if it names none (malformed). */
export function roomIdOf(pdu: Pdu, rules: RoomVersionRules): string | undefined {
  if (typeof pdu.room_id === 'string') return pdu.room_id;
  if (rules.roomIdIsCreateEventHash && pdu.type === 'm.room.create' && pdu.state_key === '') {
    return roomIdOfCreateEvent(pdu, rules);
  }
  return undefined;
}
