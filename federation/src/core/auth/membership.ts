// Reading memberships and the join rule out of room state.
// Spec: client-server-api m.room.member / m.room.join_rules; rooms/v12.md auth rules 5 and 6.
import type { Pdu } from '../types.js';
import type { StateLookup } from './types.js';

/** The membership values the auth rules know; anything else is "unknown" (rule 5.8). */
export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

/** The `content.membership` of a member event, if it is a string. */
export function membershipIn(pdu: Pdu | undefined): string | undefined {
  const m = pdu?.content.membership;
  return typeof m === 'string' ? m : undefined;
}

/** A user's current membership; no member event (or a malformed one) counts as `leave`. */
export function membershipOf(userId: string, state: StateLookup): string {
  return membershipIn(state('m.room.member', userId)) ?? 'leave';
}

/**
 * The room's join rule. With no (well-formed) m.room.join_rules event the room behaves
 * as invite-only, which is what deployed servers assume; the spec leaves it unstated.
 */
export function joinRuleOf(state: StateLookup): string {
  const rule = state('m.room.join_rules', '')?.content.join_rule;
  return typeof rule === 'string' ? rule : 'invite';
}
