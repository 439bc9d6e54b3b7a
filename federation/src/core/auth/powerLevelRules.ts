// Auth rule 10 (9 in v6–v11): changes to m.room.power_levels.
// Spec: rooms/v12.md rule 10; rooms/v10.md rules 9.1–9.2 (integers only);
// rooms/fragments/v1-auth-rules.md rule 10 (only `events`, before v6 added `notifications`).
import { isValidUserId } from '../ids.js';
import type { RoomVersionRules } from '../roomVersions.js';
import type { JsonObject, JsonValue, RoomEvent } from '../types.js';
import { roomCreators } from './creators.js';
import { NAMED_LEVELS, parsePowerLevelValue, userPowerLevel } from './powerLevels.js';
import { deny } from './ruleNumbers.js';
import { ALLOWED, type AuthResult, type StateLookup } from './types.js';

export function checkPowerLevelsEvent(event: RoomEvent, state: StateLookup, rules: RoomVersionRules): AuthResult {
  const { pdu } = event;
  const content = pdu.content;
  const shape = checkShape(content, rules);
  if (shape !== undefined) return shape;

  if (rules.privilegedCreators && isObject(content.users)) {
    for (const creator of roomCreators(state('m.room.create', ''), rules)) {
      if (Object.hasOwn(content.users, creator)) {
        return deny(rules, 'powerLevels.creators', 'creator listed in users', `Room creators (${creator}) cannot be given a power level.`);
      }
    }
  }

  const previous = state('m.room.power_levels', '');
  if (previous === undefined) return ALLOWED;
  const old = previous.content;
  const level = userPowerLevel(pdu.sender, state, rules);
  const above = (raw: JsonValue | undefined, orEqual = false): boolean => {
    const v = parsePowerLevelValue(raw, rules);
    return v !== undefined && (orEqual ? v >= level : v > level);
  };

  for (const key of NAMED_LEVELS) {
    const before = own(old, key);
    const after = own(content, key);
    if (sameJson(before, after)) continue;
    if (above(before)) return deny(rules, 'powerLevels.named.old', `${key} is above your level`, `You cannot change ${key} from a level above your own.`);
    if (above(after)) return deny(rules, 'powerLevels.named.new', `${key} is above your level`, `You cannot set ${key} above your own level.`);
  }

  const maps = rules.limitNotificationsPowerLevels ? (['events', 'notifications'] as const) : (['events'] as const);
  for (const name of maps) {
    const before = asObject(old[name]);
    const after = asObject(content[name]);
    for (const key of Object.keys(before)) {
      if (!sameJson(before[key], own(after, key)) && above(before[key])) {
        return deny(rules, 'powerLevels.mapsOld', `${name}.${key} is above your level`, `You cannot change the ${name} level for ${key}: it is above your own.`);
      }
    }
    for (const key of Object.keys(after)) {
      if (!sameJson(own(before, key), after[key]) && above(after[key])) {
        return deny(rules, 'powerLevels.mapsNew', `${name}.${key} is above your level`, `You cannot set the ${name} level for ${key} above your own.`);
      }
    }
  }

  const usersBefore = asObject(old.users);
  const usersAfter = asObject(content.users);
  for (const user of Object.keys(usersBefore)) {
    if (user === pdu.sender || sameJson(usersBefore[user], own(usersAfter, user))) continue;
    if (above(usersBefore[user], true)) {
      return deny(rules, 'powerLevels.usersOld', 'target level not below yours', `You cannot change the level of ${user}, who is not below you.`);
    }
  }
  for (const user of Object.keys(usersAfter)) {
    if (!sameJson(own(usersBefore, user), usersAfter[user]) && above(usersAfter[user])) {
      return deny(rules, 'powerLevels.usersNew', 'new level above yours', `You cannot give ${user} a level above your own.`);
    }
  }
  return ALLOWED;
}

/** Rules 10.1–10.3: the values must be levels this room version accepts. */
function checkShape(content: JsonObject, rules: RoomVersionRules): AuthResult | undefined {
  const valid = (v: JsonValue | undefined): boolean => parsePowerLevelValue(v, rules) !== undefined;
  if (rules.integerPowerLevels) {
    for (const key of NAMED_LEVELS) {
      if (Object.hasOwn(content, key) && !valid(content[key])) {
        return deny(rules, 'powerLevels.namedInts', `${key} is not an integer`, `Power level ${key} must be an integer.`);
      }
    }
    for (const name of ['events', 'notifications'] as const) {
      if (!Object.hasOwn(content, name)) continue;
      const map = content[name];
      if (!isObject(map) || !Object.values(map).every(valid)) {
        return deny(rules, 'powerLevels.mapInts', `${name} has non-integer values`, `${name} must map to integer power levels.`);
      }
    }
  } else if (!rules.strictCanonicalJson && hasNonFinite(content)) {
    // Spec: v1-floaty-power-levels.md — values beyond a double's range reject the event.
    return deny(rules, 'powerLevels.users', 'value out of range', 'Power levels must be finite numbers.');
  }
  if (Object.hasOwn(content, 'users')) {
    const users = content.users;
    if (!isObject(users) || !Object.entries(users).every(([u, v]) => isValidUserId(u) && valid(v))) {
      return deny(rules, 'powerLevels.users', 'users is malformed', 'users must map valid user IDs to integer power levels.');
    }
  }
  return undefined;
}

function hasNonFinite(content: JsonObject): boolean {
  const bad = (v: JsonValue | undefined): boolean => typeof v === 'number' && !Number.isFinite(v);
  if (NAMED_LEVELS.some((k) => bad(content[k]))) return true;
  return (['events', 'notifications', 'users'] as const).some((m) => Object.values(asObject(content[m])).some(bad));
}

/** A property only if the object really has it (not inherited), so `__proto__` keys behave. */
function own(obj: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function asObject(v: JsonValue | undefined): JsonObject {
  return isObject(v) ? v : {};
}

/** "Changed" means the JSON value differs, so `"50"` → `50` counts as a change (v1–v9). */
function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
