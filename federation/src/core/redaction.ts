// The redaction algorithm: which parts of an event survive a redaction, and
// hence which parts hashes and signatures must still cover.
// Spec: rooms/fragments/v1-redactions.md, v6-redactions.md, v9-redactions.md,
// v11-redactions.md (v12 reuses v11, rooms/v12.md "Redactions").
import type { RedactionRules, RoomVersionRules } from './roomVersions.js';
import type { JsonObject, JsonValue, Pdu } from './types.js';

const TOP_LEVEL_V1: readonly string[] = [
  'event_id', 'type', 'room_id', 'sender', 'state_key', 'content', 'hashes', 'signatures',
  'depth', 'prev_events', 'prev_state', 'auth_events', 'origin', 'origin_server_ts', 'membership',
];
// v11 stops protecting the legacy `origin`, `membership` and `prev_state` keys.
const TOP_LEVEL_V11: readonly string[] = TOP_LEVEL_V1.filter(
  (k) => k !== 'origin' && k !== 'membership' && k !== 'prev_state',
);

/** `true` = every content key survives. */
type ContentRules = Readonly<Record<string, readonly string[] | true>>;

const POWER_LEVELS_V1 = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

const CONTENT_V1: ContentRules = {
  'm.room.member': ['membership'],
  'm.room.create': ['creator'],
  'm.room.join_rules': ['join_rule'],
  'm.room.power_levels': POWER_LEVELS_V1,
  'm.room.aliases': ['aliases'],
  'm.room.history_visibility': ['history_visibility'],
};
// v6: m.room.aliases content is no longer protected.
const CONTENT_V6: ContentRules = Object.fromEntries(
  Object.entries(CONTENT_V1).filter(([type]) => type !== 'm.room.aliases'),
);
// v9: restricted joins need the authorising server and the allow list to survive.
const CONTENT_V9: ContentRules = {
  ...CONTENT_V6,
  'm.room.member': ['membership', 'join_authorised_via_users_server'],
  'm.room.join_rules': ['join_rule', 'allow'],
};
// v11: whole create content, power-level `invite`, redaction `redacts`
// (third_party_invite.signed is handled separately).
const CONTENT_V11: ContentRules = {
  ...CONTENT_V9,
  'm.room.create': true,
  'm.room.power_levels': [...POWER_LEVELS_V1, 'invite'],
  'm.room.redaction': ['redacts'],
};

const CONTENT_RULES: Readonly<Record<RedactionRules, ContentRules>> = {
  v1: CONTENT_V1,
  v6: CONTENT_V6,
  v9: CONTENT_V9,
  v11: CONTENT_V11,
};

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The redacted form of a PDU. Returns a new object and never mutates the input; kept
 * nested values are shared with the input rather than deep-copied, so treat both as immutable.
 */
export function redact(pdu: Pdu, rules: RoomVersionRules): Pdu {
  const keep = rules.redaction === 'v11' ? TOP_LEVEL_V11 : TOP_LEVEL_V1;
  const out: Record<string, JsonValue> = {};
  for (const key of keep) {
    const v = pdu[key];
    if (v !== undefined && hasOwn.call(pdu, key)) out[key] = v;
  }
  if (hasOwn.call(pdu, 'content')) out.content = redactContent(pdu.type, pdu.content, rules);
  return out as unknown as Pdu;
}

/** The content that survives redaction for an event of `type` (also used for client-facing redacted events). */
export function redactContent(type: unknown, content: unknown, rules: RoomVersionRules): JsonObject {
  const out: JsonObject = {};
  if (typeof type !== 'string' || !isObject(content)) return out;
  const table = CONTENT_RULES[rules.redaction];
  const allowed = hasOwn.call(table, type) ? table[type] : undefined;
  if (allowed === undefined) return out;
  if (allowed === true) return { ...content };
  for (const key of allowed) {
    if (hasOwn.call(content, key)) out[key] = content[key];
  }
  if (rules.redaction === 'v11' && type === 'm.room.member') {
    // Only `signed` of a third-party invite survives, as the auth rules need it.
    const tpi = content.third_party_invite;
    if (isObject(tpi) && hasOwn.call(tpi, 'signed')) out.third_party_invite = { signed: tpi.signed };
  }
  return out;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
