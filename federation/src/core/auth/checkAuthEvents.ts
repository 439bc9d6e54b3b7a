// Rule 3 (2 before v12): is the event's own `auth_events` list well-formed? Plus v12's rule 2.
// Whether an auth event was itself rejected (rule 3.3) is for the caller, who keeps that record.
// Spec: rooms/v12.md rules 2 and 3; rooms/v11.md rule 2; server-server-api.md "Auth events selection".
import type { RoomVersionRules } from '../roomVersions.js';
import { stateKeyOf, type RoomEvent } from '../types.js';
import { authEventTypesFor } from './authEventsSelection.js';
import { deny } from './ruleNumbers.js';
import { ALLOWED, type AuthResult } from './types.js';

export interface AuthEventsOptions {
  /** v12: the ID of the room's (accepted) create event; rule 2 is checked only when given. */
  createEventId?: string;
}

/** Check `authEvents` (the events `event.pdu.auth_events` names) against the selection rules. */
export function checkAuthEvents(
  event: RoomEvent,
  authEvents: readonly RoomEvent[],
  rules: RoomVersionRules,
  opts: AuthEventsOptions = {},
): AuthResult {
  const { pdu } = event;
  if (pdu.type === 'm.room.create') return ALLOWED; // rule 1 decides create events alone

  const createId = opts.createEventId;
  if (rules.roomIdIsCreateEventHash && createId !== undefined) {
    // The room ID is the create event's ID with `!` for `$`.
    if (!event.roomId.startsWith('!') || !createId.startsWith('$') || event.roomId.slice(1) !== createId.slice(1)) {
      return deny(rules, 'roomId', 'room ID is not the create event', 'The room ID does not match the room creation event.');
    }
  }

  const seen = new Set<string>();
  for (const a of authEvents) {
    const key = stateKeyOf(a.pdu.type, a.pdu.state_key ?? '');
    if (typeof a.pdu.state_key === 'string' && seen.has(key)) {
      return deny(rules, 'authEvents.duplicate', 'duplicate auth event', `auth_events cites ${a.pdu.type} (${a.pdu.state_key}) twice.`);
    }
    seen.add(key);
  }

  const wanted = new Set(authEventTypesFor(pdu, rules).map(([t, k]) => stateKeyOf(t, k)));
  for (const a of authEvents) {
    if (typeof a.pdu.state_key !== 'string' || !wanted.has(stateKeyOf(a.pdu.type, a.pdu.state_key))) {
      return deny(rules, 'authEvents.selection', 'unexpected auth event', `auth_events should not cite ${a.eventId} (${a.pdu.type}).`);
    }
  }

  if (!rules.createEventNotInAuthEvents && !authEvents.some((a) => a.pdu.type === 'm.room.create')) {
    return deny(rules, 'authEvents.noCreate', 'no create event in auth_events', 'auth_events must cite the room creation event.');
  }

  for (const a of authEvents) {
    if (a.roomId !== event.roomId) {
      return deny(rules, 'authEvents.roomId', 'auth event from another room', `Auth event ${a.eventId} belongs to a different room.`);
    }
  }
  return ALLOWED;
}
