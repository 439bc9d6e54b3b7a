// Push rule conditions as pure functions of the event and the recipient's context.
// Spec: client-server-api/modules/push.md "Conditions". Unknown kinds never match.
import { containsWords, globMatches } from './glob.js';
import { valueAtPath } from './propertyPath.js';
import type { PushCondition } from './types.js';

/** An event as JSON (type, content, sender, state_key, room_id, …). */
export type PushEvent = Record<string, unknown>;

/** What a condition may need beyond the event; the same for every rule of one evaluation. */
export interface EvalContext {
  userId: string;
  /** Joined members of the room. */
  memberCount: number;
  /** The recipient's display name in the room (contains_display_name); absent or '' never matches. */
  displayName?: string;
  senderPowerLevel: number;
  /** Power level needed to trigger notification `key` (m.room.power_levels `notifications`). */
  notificationLevel(key: string): number;
}

const MAX_SAFE = 2 ** 53 - 1;

/** Non-compound canonical JSON values: what event_property_is/contains compare. */
function isScalar(v: unknown): v is string | number | boolean | null {
  return (
    v === null ||
    typeof v === 'string' ||
    typeof v === 'boolean' ||
    (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= MAX_SAFE)
  );
}

export function conditionMatches(c: PushCondition, event: PushEvent, ctx: EvalContext): boolean {
  switch (c.kind) {
    case 'event_match': {
      if (typeof c.key !== 'string' || typeof c.pattern !== 'string') return false;
      const v = valueAtPath(event, c.key);
      // Absent or non-string values never match, even `*`.
      if (typeof v !== 'string') return false;
      return globMatches(c.pattern, v, c.key === 'content.body');
    }
    case 'event_property_is': {
      if (typeof c.key !== 'string' || !isScalar(c.value)) return false;
      const v = valueAtPath(event, c.key);
      return isScalar(v) && v === c.value;
    }
    case 'event_property_contains': {
      if (typeof c.key !== 'string' || !isScalar(c.value)) return false;
      const v = valueAtPath(event, c.key);
      return Array.isArray(v) && v.some((item) => isScalar(item) && item === c.value);
    }
    case 'contains_display_name': {
      const body = valueAtPath(event, 'content.body');
      if (typeof body !== 'string' || !ctx.displayName) return false;
      return containsWords(ctx.displayName, body);
    }
    case 'room_member_count':
      return typeof c.is === 'string' && memberCountMatches(c.is, ctx.memberCount);
    case 'sender_notification_permission':
      return typeof c.key === 'string' && ctx.senderPowerLevel >= ctx.notificationLevel(c.key);
    default:
      return false;
  }
}

const MEMBER_COUNT = /^(==|<=|>=|<|>)?([0-9]+)$/;

/** `is`: a decimal integer, optionally prefixed by ==, <, >, <= or >= (default ==). */
export function memberCountMatches(is: string, count: number): boolean {
  const m = MEMBER_COUNT.exec(is);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1]) {
    case '<':
      return count < n;
    case '>':
      return count > n;
    case '<=':
      return count <= n;
    case '>=':
      return count >= n;
    default:
      return count === n;
  }
}
