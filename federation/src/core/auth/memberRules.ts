// Auth rule 5 (v1–v5, v12) / rule 4 (v6–v11): m.room.member events.
// Spec: rooms/v12.md rule 5; rooms/fragments/v1-auth-rules.md and v8-auth-rules.md for the
// older shapes (no knock before v7, no restricted before v8, no knock_restricted before v10).
import { serverNameOf } from '../ids.js';
import type { RoomVersionRules } from '../roomVersions.js';
import type { RoomEvent } from '../types.js';
import { originalCreator } from './creators.js';
import { checkInvite } from './inviteRules.js';
import { joinRuleOf, membershipOf } from './membership.js';
import { powerLevelsOf, userPowerLevel } from './powerLevels.js';
import { deny } from './ruleNumbers.js';
import { ALLOWED, type AuthOptions, type AuthResult, type StateLookup } from './types.js';

/** What every membership sub-check needs. */
export interface MemberContext {
  event: RoomEvent;
  sender: string;
  target: string;
  state: StateLookup;
  rules: RoomVersionRules;
  opts: AuthOptions;
}

export function checkMemberEvent(
  event: RoomEvent,
  state: StateLookup,
  rules: RoomVersionRules,
  opts: AuthOptions,
): AuthResult {
  const { pdu } = event;
  if (typeof pdu.state_key !== 'string' || !Object.hasOwn(pdu.content, 'membership')) {
    return deny(rules, 'member.fields', 'missing state_key or membership', 'A membership event needs a state_key and a membership.');
  }
  const ctx: MemberContext = { event, sender: pdu.sender, target: pdu.state_key, state, rules, opts };

  if (rules.restrictedJoins && Object.hasOwn(pdu.content, 'join_authorised_via_users_server')) {
    const via = pdu.content.join_authorised_via_users_server;
    const server = typeof via === 'string' ? serverNameOf(via) : undefined;
    if (server === undefined || opts.isSignedBy === undefined || !opts.isSignedBy(pdu, server)) {
      return deny(
        rules,
        'member.authorisedVia.signed',
        'not signed by the authorising server',
        "The join is not signed by the server of the user named in join_authorised_via_users_server.",
      );
    }
  }

  switch (pdu.content.membership) {
    case 'join':
      return checkJoin(ctx);
    case 'invite':
      return checkInvite(ctx);
    case 'leave':
      return checkLeave(ctx);
    case 'ban':
      return checkBan(ctx);
    case 'knock':
      if (rules.knocking) return checkKnock(ctx);
      break;
  }
  return deny(rules, 'member.unknown', 'unknown membership', `Membership ${JSON.stringify(pdu.content.membership)} is not valid in this room version.`);
}

function checkJoin(ctx: MemberContext): AuthResult {
  const { event, sender, target, state, rules } = ctx;
  if (isCreatorsFirstJoin(ctx)) return ALLOWED;
  if (sender !== target) {
    return deny(rules, 'member.join.senderIsTarget', 'sender is not the joining user', 'You cannot join a room on behalf of someone else.');
  }
  if (membershipOf(sender, state) === 'ban') {
    return deny(rules, 'member.join.banned', 'sender is banned', 'You are banned from this room.');
  }
  const joinRule = joinRuleOf(state);
  const current = membershipOf(target, state);
  const alreadyWelcome = current === 'invite' || current === 'join';
  if (joinRule === 'invite' || (rules.knocking && joinRule === 'knock')) {
    if (alreadyWelcome) return ALLOWED;
    return deny(rules, 'member.join.otherwise', 'not invited', 'You need an invite to join this room.');
  }
  const restricted = joinRule === 'restricted' || (rules.knockRestrictedJoins && joinRule === 'knock_restricted');
  if (rules.restrictedJoins && restricted) {
    if (alreadyWelcome) return ALLOWED;
    const via = event.pdu.content.join_authorised_via_users_server;
    const ok =
      typeof via === 'string' &&
      membershipOf(via, state) === 'join' &&
      userPowerLevel(via, state, rules) >= powerLevelsOf(state, rules).levels.invite;
    if (!ok) {
      return deny(
        rules,
        'member.join.restricted.authoriser',
        'no authorising member',
        'This room is restricted and the join was not authorised by a member allowed to invite.',
      );
    }
    return ALLOWED;
  }
  if (joinRule === 'public') return ALLOWED;
  return deny(rules, 'member.join.otherwise', 'join rule forbids joining', `The room's join rule (${joinRule}) does not let you join.`);
}

/** Rule 5.3.1: the creator's own join right after the create event. */
function isCreatorsFirstJoin({ event, target, state, rules, opts }: MemberContext): boolean {
  const prev = event.pdu.prev_events;
  const create = state('m.room.create', '');
  if (prev.length !== 1 || create === undefined || target !== originalCreator(create, rules)) return false;
  const createId =
    opts.createEventId ??
    (rules.roomIdIsCreateEventHash ? '$' + event.roomId.slice(1) : create.event_id);
  if (createId !== undefined) return prev[0] === createId;
  // v3–v11 without the create event's ID: accept only if nothing but the create event is in
  // the state this join is checked against (no members, power levels or join rules yet).
  return (
    state('m.room.member', target) === undefined &&
    state('m.room.power_levels', '') === undefined &&
    state('m.room.join_rules', '') === undefined
  );
}

function checkLeave({ sender, target, state, rules }: MemberContext): AuthResult {
  if (sender === target) {
    const current = membershipOf(target, state);
    if (current === 'invite' || current === 'join' || (rules.knocking && current === 'knock')) return ALLOWED;
    return deny(rules, 'member.leave.self', 'not in the room', 'You cannot leave a room you are not in, invited to or knocking on.');
  }
  if (membershipOf(sender, state) !== 'join') {
    return deny(rules, 'member.leave.senderJoined', 'sender is not joined', 'You must be in the room to kick or unban someone.');
  }
  const pl = powerLevelsOf(state, rules).levels;
  const senderLevel = userPowerLevel(sender, state, rules);
  if (membershipOf(target, state) === 'ban' && senderLevel < pl.ban) {
    return deny(rules, 'member.leave.targetBanned', 'below ban level', 'You do not have permission to unban users.');
  }
  if (senderLevel >= pl.kick && userPowerLevel(target, state, rules) < senderLevel) return ALLOWED;
  const why =
    senderLevel < pl.kick ? 'You do not have permission to kick users.' : 'You cannot kick a user whose power level is not below yours.';
  return deny(rules, 'member.leave.otherwise', 'cannot kick', why);
}

function checkBan({ sender, target, state, rules }: MemberContext): AuthResult {
  if (membershipOf(sender, state) !== 'join') {
    return deny(rules, 'member.ban.senderJoined', 'sender is not joined', 'You must be in the room to ban someone.');
  }
  const senderLevel = userPowerLevel(sender, state, rules);
  const banLevel = powerLevelsOf(state, rules).levels.ban;
  if (senderLevel >= banLevel && userPowerLevel(target, state, rules) < senderLevel) return ALLOWED;
  const why =
    senderLevel < banLevel ? 'You do not have permission to ban users.' : 'You cannot ban a user whose power level is not below yours.';
  return deny(rules, 'member.ban.otherwise', 'cannot ban', why);
}

function checkKnock({ sender, target, state, rules }: MemberContext): AuthResult {
  const joinRule = joinRuleOf(state);
  if (joinRule !== 'knock' && !(rules.knockRestrictedJoins && joinRule === 'knock_restricted')) {
    return deny(rules, 'member.knock.joinRule', 'room does not allow knocking', 'This room does not accept knocks.');
  }
  if (sender !== target) {
    return deny(rules, 'member.knock.self', 'sender is not the knocking user', 'You cannot knock on behalf of someone else.');
  }
  const current = membershipOf(sender, state);
  if (current !== 'ban' && current !== 'invite' && current !== 'join') return ALLOWED;
  const why = current === 'ban' ? 'You are banned from this room.' : 'You are already invited to or in this room.';
  return deny(rules, 'member.knock.otherwise', `sender is already ${current}`, why);
}
