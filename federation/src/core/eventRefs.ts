// Event references in room versions 1 and 2: `prev_events` and `auth_events` hold
// `[event_id, {sha256: reference hash}]` pairs on the wire, bare IDs from v3 on. The server
// converts at its boundary: received PDUs are split into bare IDs plus the pairs' hash
// objects (RefHashes), and the wire form is rebuilt from both whenever a PDU is hashed,
// signed, checked or sent, so it stays byte-identical to what was signed.
// Spec: rooms/v1.md "Event format" (fragments/v1-event-format); server-server-api.md
// "Calculating the reference hash for an event"; rooms/fragments/v1-event-ids.md.
import { randomBytes } from 'node:crypto';
import { encodeBase64 } from './base64.js';
import { referenceHash } from './eventId.js';
import type { RoomVersionRules } from './roomVersions.js';
import type { JsonObject, JsonValue, Pdu, RefHashes } from './types.js';

/** Whether this room version references events by `[id, hashes]` pairs. */
export const usesRefPairs = (rules: RoomVersionRules): boolean => rules.eventIdFormat === 'v1';

/**
 * A wire PDU with bare IDs in `prev_events`/`auth_events`, and for v1/v2 the hash objects of
 * its references. Call after the format check (pduFormat.ts): malformed pairs are not expected.
 */
export function fromWire(wire: Pdu, rules: RoomVersionRules): { pdu: Pdu; refHashes?: RefHashes } {
  if (!usesRefPairs(rules)) return { pdu: wire };
  const prev = splitRefs(wire.prev_events);
  const auth = splitRefs(wire.auth_events);
  return { pdu: { ...wire, prev_events: prev.ids, auth_events: auth.ids }, refHashes: { prev: prev.hashes, auth: auth.hashes } };
}

/** The wire form of a held PDU: the pairs rebuilt from its IDs and `refHashes` (unchanged without them). */
export function toWire(pdu: Pdu, refHashes: RefHashes | undefined): Pdu {
  if (refHashes === undefined) return pdu;
  return {
    ...pdu,
    prev_events: pairRefs(pdu.prev_events, refHashes.prev),
    auth_events: pairRefs(pdu.auth_events, refHashes.auth),
  };
}

/** What a v1/v2 event puts beside a reference to event `e` (as held): its reference hash, over its wire form. */
export function referenceHashObject(e: { pdu: Pdu; refHashes?: RefHashes }, rules: RoomVersionRules): JsonObject {
  return { sha256: encodeBase64(referenceHash(toWire(e.pdu, e.refHashes), rules)) };
}

/** `{ refHashes }` of an event that has them, else `{}`: for building stored records. */
export function refHashesOf(e: { refHashes?: RefHashes }): { refHashes?: RefHashes } {
  return e.refHashes ? { refHashes: e.refHashes } : {};
}

/** A fresh v1/v2 event ID: random, with the creating server's name (fragments/v1-event-ids.md). */
export function newV1EventId(serverName: string): string {
  return `$${randomBytes(12).toString('base64url')}:${serverName}`;
}

function splitRefs(refs: readonly unknown[]): { ids: string[]; hashes: JsonObject[] } {
  const ids: string[] = [];
  const hashes: JsonObject[] = [];
  for (const ref of refs) {
    // A bare ID (never valid on the wire for v1/v2) is kept with an empty hash object.
    const [id, hash] = Array.isArray(ref) ? (ref as [string, JsonObject]) : [ref as string, {}];
    ids.push(id);
    hashes.push(hash);
  }
  return { ids, hashes };
}

function pairRefs(ids: readonly string[], hashes: readonly JsonObject[]): string[] {
  if (ids.length !== hashes.length) throw new Error('event references and their hashes differ in number');
  // The Pdu type describes the v3+ shape; v1/v2 wire PDUs carry pairs in the same fields.
  return ids.map((id, i): JsonValue => [id, hashes[i]]) as unknown as string[];
}
