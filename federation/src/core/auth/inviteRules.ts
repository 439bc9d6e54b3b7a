// Auth rule 5.4 (4.3 in v6–v11): invites, including third-party (3PID) invites.
// Spec: rooms/v12.md rule 5.4; client-server-api m.room.member `third_party_invite`.
import type { JsonObject } from '../types.js';
import type { MemberContext } from './memberRules.js';
import { membershipOf } from './membership.js';
import { powerLevelsOf, userPowerLevel } from './powerLevels.js';
import { deny } from './ruleNumbers.js';
import { thirdPartyPublicKeys, verifyThirdPartySigned } from './thirdPartyInvite.js';
import { ALLOWED, type AuthResult } from './types.js';

export function checkInvite(ctx: MemberContext): AuthResult {
  const { event, sender, target, state, rules } = ctx;
  if (Object.hasOwn(event.pdu.content, 'third_party_invite')) return checkThirdPartyInvite(ctx);
  if (membershipOf(sender, state) !== 'join') {
    return deny(rules, 'member.invite.senderJoined', 'sender is not joined', 'You must be in the room to invite someone.');
  }
  const current = membershipOf(target, state);
  if (current === 'join' || current === 'ban') {
    const why = current === 'join' ? 'That user is already in the room.' : 'That user is banned from the room.';
    return deny(rules, 'member.invite.targetState', `target is ${current === 'join' ? 'joined' : 'banned'}`, why);
  }
  if (userPowerLevel(sender, state, rules) >= powerLevelsOf(state, rules).levels.invite) return ALLOWED;
  return deny(rules, 'member.invite.otherwise', 'below invite level', 'You do not have permission to invite users.');
}

function checkThirdPartyInvite({ event, sender, target, state, rules }: MemberContext): AuthResult {
  if (membershipOf(target, state) === 'ban') {
    return deny(rules, 'member.invite.thirdParty.targetBanned', 'target is banned', 'That user is banned from the room.');
  }
  const tpi = event.pdu.content.third_party_invite;
  const signed = isObject(tpi) ? tpi.signed : undefined;
  if (!isObject(signed)) {
    return deny(rules, 'member.invite.thirdParty.signed', 'no signed block', 'The third-party invite has no signed block.');
  }
  const { mxid, token } = signed;
  if (typeof mxid !== 'string' || typeof token !== 'string') {
    return deny(rules, 'member.invite.thirdParty.fields', 'signed lacks mxid or token', 'The third-party invite must carry an mxid and a token.');
  }
  if (mxid !== target) {
    return deny(rules, 'member.invite.thirdParty.mxid', 'mxid is not the target', 'The third-party invite was issued for a different user.');
  }
  const invite = state('m.room.third_party_invite', token);
  if (invite === undefined) {
    return deny(rules, 'member.invite.thirdParty.tokenEvent', 'no matching third-party invite', 'No pending third-party invite matches this token.');
  }
  if (invite.sender !== sender) {
    return deny(rules, 'member.invite.thirdParty.sender', 'sender did not issue the invite', 'Only the user who issued the third-party invite can complete it.');
  }
  if (verifyThirdPartySigned(signed, thirdPartyPublicKeys(invite.content))) return ALLOWED;
  return deny(rules, 'member.invite.thirdParty.otherwise', 'bad signature', "The identity server's signature on the invite does not verify.");
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
