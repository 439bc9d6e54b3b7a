// The authorisation rules: may `event` be accepted given the state it is checked against?
// Spec: rooms/v12.md "Authorisation rules"; rooms/fragments/v1-auth-rules.md (v1–v2),
// v3-auth-rules.md (v3–v5), rooms/v6.md, v7.md, v8-auth-rules.md (v8–v9), rooms/v10.md, v11.md.
// Rule 3 (the event's own auth_events) lives in checkAuthEvents.ts.
import { serverNameOf } from '../ids.js';
import type { RoomVersionRules } from '../roomVersions.js';
import type { RoomEvent } from '../types.js';
import { checkCreateEvent } from './createRules.js';
import { checkMemberEvent } from './memberRules.js';
import { membershipOf } from './membership.js';
import { checkPowerLevelsEvent } from './powerLevelRules.js';
import { powerLevelsOf, requiredPowerForEvent, userPowerLevel } from './powerLevels.js';
import { deny } from './ruleNumbers.js';
import { ALLOWED, type AuthOptions, type AuthResult, type StateLookup } from './types.js';

export type { AuthOptions, AuthResult, StateLookup } from './types.js';

/** Check `event` against the given auth state. For v12 the lookup must also answer the create event. */
export function checkEventAuth(
  event: RoomEvent,
  state: StateLookup,
  rules: RoomVersionRules,
  opts: AuthOptions = {},
): AuthResult {
  const { pdu } = event;
  if (pdu.type === 'm.room.create') return checkCreateEvent(event, rules);

  const create = state('m.room.create', '');
  if (create === undefined) {
    // Without the create event nothing can be authorised (rule 2 in v12, 2.4 before).
    return rules.createEventNotInAuthEvents
      ? deny(rules, 'roomId', 'no create event', 'The room has no creation event.')
      : deny(rules, 'authEvents.noCreate', 'no create event', 'The room has no creation event.');
  }

  if (create.content['m.federate'] === false && serverNameOf(pdu.sender) !== serverNameOf(create.sender)) {
    return deny(rules, 'federate', 'room is not federated', 'This room only accepts events from users on its own server.');
  }

  if (rules.specialCaseAliasesAuth && pdu.type === 'm.room.aliases') {
    if (typeof pdu.state_key !== 'string') {
      return deny(rules, 'aliases.noStateKey', 'aliases event has no state_key', 'An m.room.aliases event needs a state_key.');
    }
    if (serverNameOf(pdu.sender) !== pdu.state_key) {
      return deny(rules, 'aliases.domain', 'state_key is not the sender server', "Servers may only publish aliases under their own name.");
    }
    return ALLOWED;
  }

  if (pdu.type === 'm.room.member') return checkMemberEvent(event, state, rules, opts);

  if (membershipOf(pdu.sender, state) !== 'join') {
    return deny(rules, 'joined', 'sender is not joined', 'You are not a member of this room.');
  }

  const senderLevel = userPowerLevel(pdu.sender, state, rules);
  if (pdu.type === 'm.room.third_party_invite') {
    if (senderLevel >= powerLevelsOf(state, rules).levels.invite) return ALLOWED;
    return deny(rules, 'thirdPartyInvite.level', 'below invite level', 'You do not have permission to invite users.');
  }

  const stateKey = pdu.state_key;
  const required = requiredPowerForEvent(pdu.type, typeof stateKey === 'string', state, rules);
  if (required > senderLevel) {
    return deny(rules, 'typeLevel', 'insufficient power level', `Sending ${pdu.type} needs power level ${required}; you have ${senderLevel}.`);
  }

  if (typeof stateKey === 'string' && stateKey.startsWith('@') && stateKey !== pdu.sender) {
    return deny(rules, 'stateKey', "state_key is another user's ID", "You cannot set state keyed to another user's ID.");
  }

  if (pdu.type === 'm.room.power_levels') return checkPowerLevelsEvent(event, state, rules);

  // v1–v2 only: redactions need the redact level or an event from the redacter's own server.
  if (rules.eventIdFormat === 'v1' && pdu.type === 'm.room.redaction') {
    if (senderLevel >= powerLevelsOf(state, rules).levels.redact) return ALLOWED;
    const redacts = typeof pdu.redacts === 'string' ? serverNameOf(pdu.redacts) : undefined;
    if (redacts !== undefined && redacts === serverNameOf(event.eventId)) return ALLOWED;
    return deny(rules, 'redaction.otherwise', 'cannot redact', 'You do not have permission to redact that event.');
  }
  return ALLOWED;
}
