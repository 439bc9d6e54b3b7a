// An event's own auth events, keyed by (type, state_key), for the checks that look
// "at the event's auth_events" (power ordering) or fall back to them (iterative auth checks).
import type { RoomVersionRules } from '../roomVersions.js';
import { type RoomEvent, type StateKey, stateKeyOf } from '../types.js';
import { type GetEvent, requireEvent } from './eventGraph.js';

export const CREATE_KEY: StateKey = stateKeyOf('m.room.create', '');
export const POWER_LEVELS_KEY: StateKey = stateKeyOf('m.room.power_levels', '');

/**
 * Event ID of the room's create event where the room ID implies it (v12: `!hash` ↔ `$hash`;
 * a create event implies itself). rooms/v12.md: the create event is never cited in
 * auth_events, yet every check needs it.
 */
export function impliedCreateEventId(event: RoomEvent, rules: RoomVersionRules): string | undefined {
  if (!rules.roomIdIsCreateEventHash) return undefined;
  if (event.pdu.type === 'm.room.create' && event.pdu.state_key === '') return event.eventId;
  return '$' + event.roomId.slice(1);
}

/**
 * State key → event ID for `event`'s auth events, skipping those `skip` rejects,
 * plus the implied create event in v12.
 */
export function authEventsByKey(
  event: RoomEvent,
  getEvent: GetEvent,
  rules: RoomVersionRules,
  skip?: (id: string) => boolean,
): Map<StateKey, string> {
  const out = new Map<StateKey, string>();
  for (const id of event.pdu.auth_events) {
    if (skip?.(id)) continue;
    const { pdu } = requireEvent(getEvent, id);
    if (pdu.state_key !== undefined) out.set(stateKeyOf(pdu.type, pdu.state_key), id);
  }
  const createId = impliedCreateEventId(event, rules);
  if (createId !== undefined && !out.has(CREATE_KEY)) out.set(CREATE_KEY, createId);
  return out;
}
