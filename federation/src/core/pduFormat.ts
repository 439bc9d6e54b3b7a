// Is this a well-formed PDU for its room version? Events failing this are
// dropped before any signature or auth work (server-server-api.md "Checks performed on receipt of a PDU", step 1).
// Spec: data/api/server-server/definitions/pdu_v1…pdu_v12.yaml (and components/);
// client-server-api "Size limits"; rooms/v12.md (create event has no room_id).
import { CanonicalJsonError, canonicalJson, canonicalJsonWithout, type JsonObjectLike } from './canonicalJson.js';
import { NOT_HASHED } from './hashes.js';
import { MAX_ID_BYTES, isValidEventId, isValidRoomId, isValidUserId } from './ids.js';
import type { RoomVersionRules } from './roomVersions.js';

/** Whole PDU, canonical JSON, signatures included. */
export const MAX_PDU_BYTES = 65536;
/** Per the PDU schemas' limits on `prev_events` and `auth_events`. */
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;
/**
 * Depth bound for v1–v5 (int64). 2^63−1 has no double representation and parses as 2^63,
 * so that is the largest value we can see; v6+ strict canonical JSON caps it at 2^53−1.
 */
const MAX_DEPTH_LENIENT = 2 ** 63;

type Obj = Record<string, unknown>;

/** The first problem found with `pdu` for this room version, or undefined if it is well-formed. */
export function checkPduFormat(pdu: unknown, rules: RoomVersionRules): string | undefined {
  return checkPduFormatKeepingContent(pdu, rules).problem;
}

/**
 * As checkPduFormat, and for a well-formed PDU also the canonical JSON its content hash is
 * computed over (without `signatures`, `unsigned`, `hashes`): the size check is derived from
 * that encoding plus the encoding of the three left-out members, so the whole PDU is encoded
 * once, not once for the size and again for the hash (see hashes.ts hasValidContentHashOf).
 */
export function checkPduFormatKeepingContent(pdu: unknown, rules: RoomVersionRules): { problem?: string; contentJson?: string } {
  if (!isObject(pdu)) return { problem: 'PDU is not a JSON object' };
  const problem = checkFields(pdu, rules);
  if (problem !== undefined) return { problem };
  // Last, as it is the costliest: the serialization checks both size and strictness.
  let size: number;
  let contentJson: string;
  try {
    const strict = rules.strictCanonicalJson;
    contentJson = canonicalJsonWithout(pdu as JsonObjectLike, NOT_HASHED, { strict });
    size = Buffer.byteLength(contentJson, 'utf8') + leftOutBytes(pdu, strict);
  } catch (err) {
    if (err instanceof CanonicalJsonError) return { problem: `not canonical JSON: ${err.message}` };
    throw err;
  }
  if (size > MAX_PDU_BYTES) return { problem: `PDU is ${size} bytes, over the ${MAX_PDU_BYTES}-byte limit` };
  return { contentJson };
}

/**
 * What the left-out members add to the whole PDU's canonical JSON. Members are joined by
 * commas, so each adds its `"key":value` and one comma; encoding them as an object of their
 * own gives `{` + members + (n−1) commas + `}`, i.e. that sum plus one. (`type` and the other
 * required fields are always there, so the rest is never empty.)
 */
function leftOutBytes(pdu: Obj, strict: boolean): number {
  const members: Obj = {};
  let n = 0;
  for (const key of NOT_HASHED) {
    if (Object.hasOwn(pdu, key) && pdu[key] !== undefined) {
      members[key] = pdu[key];
      n++;
    }
  }
  return n === 0 ? 0 : Buffer.byteLength(canonicalJson(members as JsonObjectLike, { strict }), 'utf8') - 1;
}

function checkFields(pdu: Obj, rules: RoomVersionRules): string | undefined {
  const { type, sender, state_key, content, depth } = pdu;
  if (typeof type !== 'string') return 'type: must be a string';
  if (!fitsBytes(type)) return 'type: longer than 255 bytes';
  if (state_key !== undefined) {
    if (typeof state_key !== 'string') return 'state_key: must be a string';
    if (!fitsBytes(state_key)) return 'state_key: longer than 255 bytes';
  }
  // The historical grammar applies: remote senders may predate the strict one.
  if (typeof sender !== 'string' || !isValidUserId(sender)) return 'sender: must be a valid user ID';
  if (!Number.isInteger(pdu.origin_server_ts)) return 'origin_server_ts: must be an integer';
  if (!isObject(content)) return 'content: must be an object';

  const isV12Create = rules.roomIdIsCreateEventHash && type === 'm.room.create' && state_key === '';
  if (isV12Create) {
    if (pdu.room_id !== undefined) return 'room_id: must be absent from a v12 create event';
  } else if (typeof pdu.room_id !== 'string' || !isValidRoomId(pdu.room_id, rules)) {
    return 'room_id: must be a valid room ID for this room version';
  }

  const maxDepth = rules.strictCanonicalJson ? Number.MAX_SAFE_INTEGER : MAX_DEPTH_LENIENT;
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 0 || depth > maxDepth) {
    return 'depth: must be an integer from 0 to the room version maximum';
  }

  const refs = checkEventRefs(pdu.prev_events, MAX_PREV_EVENTS, rules) ?? checkEventRefs(pdu.auth_events, MAX_AUTH_EVENTS, rules);
  if (refs !== undefined) return refs;

  if (!isObject(pdu.hashes) || typeof pdu.hashes.sha256 !== 'string') return 'hashes: must contain a sha256 string';
  if (!isSignatures(pdu.signatures)) return 'signatures: must map server names to key IDs to strings';
  if (pdu.unsigned !== undefined && !isObject(pdu.unsigned)) return 'unsigned: must be an object';

  if (rules.eventIdFormat === 'v1') {
    if (typeof pdu.event_id !== 'string' || !isValidEventId(pdu.event_id, rules)) {
      return 'event_id: must be a valid event ID';
    }
  }
  // Before v11 `redacts` is a top-level key; from v11 it is ordinary content.
  if (!rules.redactsInContent && pdu.redacts !== undefined) {
    if (typeof pdu.redacts !== 'string' || !isValidEventId(pdu.redacts, rules)) return 'redacts: must be an event ID';
  }
  return undefined;
}

/** v1/v2 reference `[event_id, {sha256}]` pairs; v3+ bare event IDs. */
function checkEventRefs(refs: unknown, max: number, rules: RoomVersionRules): string | undefined {
  if (!Array.isArray(refs)) return 'prev_events and auth_events must be arrays';
  if (refs.length > max) return `too many event references (${refs.length} > ${max})`;
  const pairs = rules.eventIdFormat === 'v1';
  for (const ref of refs) {
    const id = pairs ? pairId(ref) : ref;
    if (typeof id !== 'string' || !isValidEventId(id, rules)) {
      return pairs ? 'event references must be [event ID, {sha256}] pairs' : 'event references must be event IDs';
    }
  }
  return undefined;
}

function pairId(ref: unknown): unknown {
  if (!Array.isArray(ref) || ref.length !== 2) return undefined;
  const hash: unknown = ref[1];
  return isObject(hash) && typeof hash.sha256 === 'string' ? ref[0] : undefined;
}

function isSignatures(v: unknown): boolean {
  if (!isObject(v)) return false;
  for (const server in v) {
    const keys = v[server];
    if (!isObject(keys)) return false;
    for (const keyId in keys) if (typeof keys[keyId] !== 'string') return false;
  }
  return true;
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fitsBytes(s: string): boolean {
  return s.length <= MAX_ID_BYTES / 3 || Buffer.byteLength(s, 'utf8') <= MAX_ID_BYTES;
}
