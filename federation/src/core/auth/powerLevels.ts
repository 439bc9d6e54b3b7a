// m.room.power_levels content with its defaults, and the levels derived from room state.
// Spec: event-schemas m.room.power_levels (defaults); server-server-api.md "Definitions";
// rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md; rooms/v10.md
// (integers only); rooms/v12.md (creators are infinitely powerful).
import type { RoomVersionRules } from '../roomVersions.js';
import type { JsonObject, JsonValue } from '../types.js';
import { roomCreators } from './creators.js';
import type { StateLookup } from './types.js';

/** The top-level integer properties, as the auth rules list them. */
export const NAMED_LEVELS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'] as const;
export type NamedLevel = (typeof NAMED_LEVELS)[number];

/** Defaults for absent properties — the same whether or not a power levels event exists. */
export const DEFAULT_LEVELS: Readonly<Record<NamedLevel, number>> = Object.freeze({
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
});
export const DEFAULT_NOTIFICATION_LEVELS: Readonly<Record<string, number>> = Object.freeze({ room: 50 });

/** Level a creator has before v12 when the room has no power levels event. */
export const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;

/** Shared between callers (see parsePowerLevels): read only. */
export interface PowerLevels {
  readonly levels: Readonly<Record<NamedLevel, number>>;
  readonly users: ReadonlyMap<string, number>;
  readonly events: ReadonlyMap<string, number>;
  readonly notifications: ReadonlyMap<string, number>;
}

// Spec: v1-stringy-power-levels.md — optional whitespace, one sign, base-10 digits.
const STRINGY_INTEGER = /^\s*[+-]?[0-9]+\s*$/;

/**
 * One power level value as a number, or undefined if this room version does not accept it:
 * v10+ integers only; v1–v9 also integer strings; v1–v5 (no canonical JSON) also finite floats, truncated.
 */
export function parsePowerLevelValue(value: JsonValue | undefined, rules: RoomVersionRules): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value === 0 ? 0 : value; // normalise -0
    if (!rules.strictCanonicalJson && Number.isFinite(value)) return Math.trunc(value) || 0;
    return undefined;
  }
  if (typeof value === 'string' && !rules.integerPowerLevels && STRINGY_INTEGER.test(value)) {
    return Number.parseInt(value.trim(), 10) || 0;
  }
  return undefined;
}

/** The room-version flags that change how levels parse (the cache's key besides the content). */
const parsingFlags = (rules: RoomVersionRules): number => (rules.strictCanonicalJson ? 1 : 0) | (rules.integerPowerLevels ? 2 : 0);

/**
 * Parsed levels per content object. The auth rules ask for the power levels several times per
 * event (sender's level, required level, invite/redact/ban…), and a room's power levels event
 * is the same object for every event it judges; event content is never mutated, so an object
 * seen before parses the same. Weak: nothing is kept alive for the cache's sake.
 */
const parsedByContent = new WeakMap<JsonObject, { flags: number; parsed: PowerLevels }>();
const DEFAULTS_BY_FLAGS = new Map<number, PowerLevels>();

/**
 * Parse power levels content, filling defaults. Values the version does not accept are
 * treated as absent (v10+ events carrying them are rejected by auth rule 10 anyway).
 * The result is shared by every caller passing the same content object: do not change it.
 */
export function parsePowerLevels(content: JsonObject | undefined, rules: RoomVersionRules): PowerLevels {
  const flags = parsingFlags(rules);
  if (content === undefined) {
    let defaults = DEFAULTS_BY_FLAGS.get(flags);
    if (defaults === undefined) DEFAULTS_BY_FLAGS.set(flags, (defaults = parseUncached(undefined, rules)));
    return defaults;
  }
  if (typeof content !== 'object' || content === null) return parseUncached(content, rules); // malformed: not cacheable
  const hit = parsedByContent.get(content);
  if (hit !== undefined && hit.flags === flags) return hit.parsed;
  const parsed = parseUncached(content, rules);
  parsedByContent.set(content, { flags, parsed });
  return parsed;
}

function parseUncached(content: JsonObject | undefined, rules: RoomVersionRules): PowerLevels {
  const levels = { ...DEFAULT_LEVELS };
  for (const key of NAMED_LEVELS) {
    const v = parsePowerLevelValue(content?.[key], rules);
    if (v !== undefined) levels[key] = v;
  }
  const notifications = parseLevelMap(content?.notifications, rules);
  for (const [k, v] of Object.entries(DEFAULT_NOTIFICATION_LEVELS)) if (!notifications.has(k)) notifications.set(k, v);
  return Object.freeze({
    levels: Object.freeze(levels),
    users: parseLevelMap(content?.users, rules),
    events: parseLevelMap(content?.events, rules),
    notifications,
  });
}

function parseLevelMap(value: JsonValue | undefined, rules: RoomVersionRules): Map<string, number> {
  const out = new Map<string, number>();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [k, raw] of Object.entries(value)) {
    const v = parsePowerLevelValue(raw, rules);
    if (v !== undefined) out.set(k, v);
  }
  return out;
}

/** The power levels in force in `state` (all defaults when there is no event). */
export function powerLevelsOf(state: StateLookup, rules: RoomVersionRules): PowerLevels {
  return parsePowerLevels(state('m.room.power_levels', '')?.content, rules);
}

/**
 * A user's power level. v12 creators are infinitely powerful (Infinity). Before v12,
 * with no power levels event the creator has 100 and everyone else 0.
 */
export function userPowerLevel(userId: string, state: StateLookup, rules: RoomVersionRules): number {
  const creators = roomCreators(state('m.room.create', ''), rules);
  if (rules.privilegedCreators && creators.has(userId)) return Infinity;
  const pl = state('m.room.power_levels', '');
  if (pl === undefined) return creators.has(userId) ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS : 0;
  const parsed = parsePowerLevels(pl.content, rules);
  return parsed.users.get(userId) ?? parsed.levels.users_default;
}

/** The "required power level" for sending an event of `type` (server-server-api.md "Definitions"). */
export function requiredPowerForEvent(type: string, isState: boolean, state: StateLookup, rules: RoomVersionRules): number {
  const pl = powerLevelsOf(state, rules);
  return pl.events.get(type) ?? (isState ? pl.levels.state_default : pl.levels.events_default);
}

/** Whether `userId` has enough power to send `type` (auth rule 8; membership is checked separately). */
export function canSendEvent(
  userId: string,
  type: string,
  isState: boolean,
  state: StateLookup,
  rules: RoomVersionRules,
): boolean {
  return userPowerLevel(userId, state, rules) >= requiredPowerForEvent(type, isState, state, rules);
}

/** The level needed to trigger notification `key` (e.g. `room` for @room mentions). */
export function notificationPowerLevel(key: string, state: StateLookup, rules: RoomVersionRules): number {
  // Only `room` has a specified default; other keys get the same, erring on the side of fewer pings.
  return powerLevelsOf(state, rules).notifications.get(key) ?? DEFAULT_NOTIFICATION_LEVELS.room;
}
