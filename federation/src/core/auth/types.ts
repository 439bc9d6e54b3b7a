// Shared shapes of the authorisation layer.
import type { Pdu } from '../types.js';

/** Outcome of an auth check; `rule` numbers the failing spec rule for the room version in use. */
export type AuthResult = { allowed: true } | { allowed: false; rule: string; reason: string };

/** Answers "which event holds (type, state_key) in the state being checked against?". */
export type StateLookup = (type: string, stateKey: string) => Pdu | undefined;

export interface AuthOptions {
  /** Is `pdu` validly signed by `serverName`? Needed for rule 5.2 (join_authorised_via_users_server); if absent that rule rejects. */
  isSignedBy?: (pdu: Pdu, serverName: string) => boolean;
  /**
   * Event ID of the room's m.room.create event, for the "only previous event is the create
   * event" join rule. Derived when possible (v1–v2: its `event_id`; v12: the room ID).
   */
  createEventId?: string;
}

export const ALLOWED: AuthResult = Object.freeze({ allowed: true });
