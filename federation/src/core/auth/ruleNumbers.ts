// Rule numbers shift between room versions (rules are added and removed), so the
// number reported for a failure is computed from the version's flags.
// Spec: rooms/fragments/v1-auth-rules.md, v3-auth-rules.md, v8-auth-rules.md, rooms/v10.md, v11.md, v12.md.
import type { RoomVersionRules } from '../roomVersions.js';
import type { AuthResult } from './types.js';

type Children = (r: RoomVersionRules) => readonly string[];

const when = (flag: boolean, ...names: string[]): string[] => (flag ? names : []);

// Each entry lists a rule's sub-rules in spec order; '-' holds the place of a number the spec skips.
const TREE: Record<string, Children> = {
  '': (r) => [
    'create',
    ...when(r.roomIdIsCreateEventHash, 'roomId'),
    'authEvents',
    'federate',
    ...when(r.specialCaseAliasesAuth, 'aliases'),
    'member',
    'joined',
    'thirdPartyInvite',
    'typeLevel',
    'stateKey',
    'powerLevels',
    ...when(r.eventIdFormat === 'v1', 'redaction'),
    'otherwise',
  ],
  create: (r) => [
    'prevEvents',
    r.roomIdIsCreateEventHash ? 'hasRoomId' : 'roomIdDomain',
    'roomVersion',
    ...when(!r.creatorIsSender, 'creator'),
    ...when(r.privilegedCreators, 'additionalCreators'),
    'allow',
  ],
  authEvents: (r) => ['duplicate', 'selection', 'rejected', r.createEventNotInAuthEvents ? '-' : 'noCreate', 'roomId'],
  aliases: () => ['noStateKey', 'domain', 'allow'],
  member: (r) => [
    'fields',
    ...when(r.restrictedJoins, 'authorisedVia'),
    'join',
    'invite',
    'leave',
    'ban',
    ...when(r.knocking, 'knock'),
    'unknown',
  ],
  'member.authorisedVia': () => ['signed'],
  'member.join': (r) => [
    'onlyCreate',
    'senderIsTarget',
    'banned',
    'invite',
    ...when(r.restrictedJoins, 'restricted'),
    'public',
    'otherwise',
  ],
  'member.join.restricted': () => ['alreadyMember', 'authoriser', 'allow'],
  'member.invite': () => ['thirdParty', 'senderJoined', 'targetState', 'level', 'otherwise'],
  'member.invite.thirdParty': () => [
    'targetBanned',
    'signed',
    'fields',
    'mxid',
    'tokenEvent',
    'sender',
    'signature',
    'otherwise',
  ],
  'member.leave': () => ['self', 'senderJoined', 'targetBanned', 'kick', 'otherwise'],
  'member.ban': () => ['senderJoined', 'level', 'otherwise'],
  'member.knock': () => ['joinRule', 'self', 'membership', 'otherwise'],
  thirdPartyInvite: () => ['level'],
  powerLevels: (r) => [
    ...when(r.integerPowerLevels, 'namedInts', 'mapInts'),
    'users',
    ...when(r.privilegedCreators, 'creators'),
    'noPrevious',
    'named',
    'mapsOld',
    'mapsNew',
    'usersOld',
    'usersNew',
    'otherwise',
  ],
  'powerLevels.named': () => ['old', 'new'],
  redaction: () => ['level', 'domain', 'otherwise'],
};

/** The spec's number (e.g. `5.3.3`) of the rule at `path` (e.g. `member.join.banned`) in this room version. */
export function ruleNumber(rules: RoomVersionRules, path: string): string {
  const parts = path.split('.');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const parent = parts.slice(0, i).join('.');
    const children = TREE[parent];
    const index = children === undefined ? -1 : children(rules).indexOf(parts[i]);
    if (index < 0) throw new Error(`no auth rule ${path} in room version ${rules.id}`);
    out.push(index + 1);
  }
  return out.join('.');
}

/** A rejection naming the rule: `rule` is "<number> <label>", `reason` a sentence for the user. */
export function deny(rules: RoomVersionRules, path: string, label: string, reason: string): AuthResult {
  return { allowed: false, rule: `${ruleNumber(rules, path)} ${label}`, reason };
}
