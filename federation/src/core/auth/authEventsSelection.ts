// Which state entries an event's `auth_events` may (and should) cite.
// Spec: server-server-api.md "Auth events selection"; rooms/v12.md note on rule 3.2.
import type { RoomVersionRules } from '../roomVersions.js';
import type { Pdu } from '../types.js';

/**
 * The (type, state_key) pairs to take from the current state for `pdu`'s auth_events,
 * each "if any". Empty for m.room.create.
 */
export function authEventTypesFor(pdu: Pdu, rules: RoomVersionRules): Array<[type: string, stateKey: string]> {
  if (pdu.type === 'm.room.create') return [];
  const out: Array<[string, string]> = [];
  const add = (type: string, stateKey: string): void => {
    if (!out.some(([t, k]) => t === type && k === stateKey)) out.push([type, stateKey]);
  };
  // v12: the room ID stands for the create event, which must not be cited.
  if (!rules.createEventNotInAuthEvents) add('m.room.create', '');
  add('m.room.power_levels', '');
  add('m.room.member', pdu.sender);
  if (pdu.type !== 'm.room.member' || typeof pdu.state_key !== 'string') return out;

  add('m.room.member', pdu.state_key);
  const membership = pdu.content.membership;
  if (membership === 'join' || membership === 'invite' || (membership === 'knock' && rules.knocking)) {
    add('m.room.join_rules', '');
  }
  if (membership === 'invite') {
    const token = signedField(pdu.content.third_party_invite, 'token');
    if (token !== undefined) add('m.room.third_party_invite', token);
  }
  const via = pdu.content.join_authorised_via_users_server;
  if (membership === 'join' && rules.restrictedJoins && typeof via === 'string') add('m.room.member', via);
  return out;
}

/** `third_party_invite.signed[field]` when it is a string. */
export function signedField(thirdPartyInvite: unknown, field: string): string | undefined {
  if (!isObject(thirdPartyInvite)) return undefined;
  const signed = thirdPartyInvite.signed;
  if (!isObject(signed)) return undefined;
  const v = signed[field];
  return typeof v === 'string' ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
