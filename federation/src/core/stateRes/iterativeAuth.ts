// Iterative auth checks: apply each event in order if the auth rules allow it against
// the state built so far, falling back to the event's own auth events for keys that
// state lacks.
// Spec: rooms/fragments/v2-state-res.md "Iterative auth checks"; rooms/v12.md (the
// create event is implied by the room ID, not cited).
import { checkEventAuth } from '../auth/checkAuth.js';
import type { AuthOptions, StateLookup } from '../auth/types.js';
import type { RoomVersionRules } from '../roomVersions.js';
import { type Pdu, type StateKey, stateKeyOf } from '../types.js';
import { authEventsByKey, CREATE_KEY } from './authEvents.js';
import { type GetEvent, requireEvent } from './eventGraph.js';
import type { Steps, WorkMeter } from './work.js';

export interface AuthCheckContext {
  getEvent: GetEvent;
  rules: RoomVersionRules;
  /** Was this event rejected on receipt? Rejected auth events are not used as fallbacks. */
  isRejected?: (id: string) => boolean;
  /**
   * Signature check for join_authorised_via_users_server. Signatures were verified when
   * each event was received and do not depend on state, so by default they are trusted.
   */
  isSignedBy?: (pdu: Pdu, serverName: string) => boolean;
}

const TRUST_RECEIPT_SIGNATURES = (): boolean => true;

/** The state after applying every event of `ordered` that passes auth, starting from `initial`. */
export function* iterativeAuthChecks(
  initial: ReadonlyMap<StateKey, string>,
  ordered: readonly string[],
  ctx: AuthCheckContext,
  meter: WorkMeter,
): Steps<Map<StateKey, string>> {
  const { getEvent, rules } = ctx;
  const state = new Map(initial);
  const opts: AuthOptions = { isSignedBy: ctx.isSignedBy ?? TRUST_RECEIPT_SIGNATURES };
  for (const id of ordered) {
    const event = requireEvent(getEvent, id);
    const stateKey = event.pdu.state_key;
    if (stateKey === undefined) continue; // only state events can enter the state map
    const fallback = authEventsByKey(event, getEvent, rules, ctx.isRejected);
    const idFor = (key: StateKey): string | undefined => state.get(key) ?? fallback.get(key);
    const lookup: StateLookup = (type, sk) => {
      const found = idFor(stateKeyOf(type, sk));
      return found === undefined ? undefined : requireEvent(getEvent, found).pdu;
    };
    const verdict = checkEventAuth(event, lookup, rules, { ...opts, createEventId: idFor(CREATE_KEY) });
    if (verdict.allowed) state.set(stateKeyOf(event.pdu.type, stateKey), id);
    if (meter.tick()) yield;
  }
  return state;
}
