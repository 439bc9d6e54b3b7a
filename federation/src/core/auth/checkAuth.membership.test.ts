// Auth rules 5.4–5.7: invites (incl. third-party), leaves and kicks, bans, knocks.
import { generateKeyPairSync, sign } from 'node:crypto';
import { canonicalJson } from '../canonicalJson.js';
import type { JsonObject } from '../types.js';
import { ALICE, ALL_VERSIONS, BOB, CAROL, runAuthCases, versionsFrom, type AuthCase, type Fixture } from './fixtures.js';

// An identity server key pair for third-party invites.
const idServer = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const rawPublic = (k: typeof idServer): string =>
  Buffer.from(k.publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('base64').replace(/=+$/, '');

function signedBlock(mxid: string, token: string, key = idServer): JsonObject {
  const body = { mxid, token, sender: ALICE };
  const sig = sign(null, Buffer.from(canonicalJson(body)), key.privateKey).toString('base64').replace(/=+$/, '');
  return { ...body, signatures: { 'id.example': { 'ed25519:0': sig } } };
}

/** Room where ALICE issued third-party invite `tok`, and an invite event completing it for `target`. */
function thirdParty(fx: Fixture, opts: { signed?: JsonObject | null; inviteContent?: JsonObject; sender?: string; target?: string } = {}) {
  const target = opts.target ?? BOB;
  const tpi = fx.event({
    type: 'm.room.third_party_invite',
    state_key: 'tok',
    content: opts.inviteContent ?? { display_name: 'b…', public_key: rawPublic(idServer), key_validity_url: 'https://id.example/v' },
  });
  const signed = opts.signed === undefined ? signedBlock(target, 'tok') : opts.signed;
  const tpContent: JsonObject = { display_name: 'b…' };
  if (signed !== null) tpContent.signed = signed;
  return {
    authState: [...fx.room({ members: { [CAROL]: 'join' } }), tpi],
    event: fx.member(target, 'invite', opts.sender ?? ALICE, { third_party_invite: tpContent }),
  };
}

const cases: AuthCase[] = [
  // 5.4: invites.
  {
    description: 'it should allow a joined member to invite',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [CAROL]: 'join' } }), event: fx.member(BOB, 'invite', CAROL) }),
    allowed: true,
  },
  {
    description: 'it should reject an invite from someone who is not joined',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room(), event: fx.member(BOB, 'invite', CAROL) }),
    allowed: false,
    rule: 'member.invite.senderJoined',
  },
  {
    description: 'it should reject inviting a user who is already joined',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' } }), event: fx.member(BOB, 'invite', ALICE) }),
    allowed: false,
    rule: 'member.invite.targetState',
  },
  {
    description: 'it should reject inviting a banned user',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'ban' } }), event: fx.member(BOB, 'invite', ALICE) }),
    allowed: false,
    rule: 'member.invite.targetState',
  },
  {
    description: 'it should reject an invite from a member below the invite level',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [CAROL]: 'join' }, levels: { invite: 50 } }),
      event: fx.member(BOB, 'invite', CAROL),
    }),
    allowed: false,
    rule: 'member.invite.otherwise',
  },

  // 5.4.1: third-party invites.
  {
    description: "it should allow completing a third-party invite signed by the identity server's key",
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx),
    allowed: true,
  },
  {
    description: 'it should accept an identity server key listed in public_keys',
    versions: ALL_VERSIONS,
    build: (fx) =>
      thirdParty(fx, { inviteContent: { display_name: 'x', public_key: rawPublic(otherKey), public_keys: [{ public_key: rawPublic(idServer) }] } }),
    allowed: true,
  },
  {
    description: 'it should reject a third-party invite signed by an unknown key',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { signed: signedBlock(BOB, 'tok', otherKey) }),
    allowed: false,
    rule: 'member.invite.thirdParty.otherwise',
  },
  {
    description: 'it should reject a third-party invite whose signed block was altered',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { signed: { ...signedBlock(BOB, 'tok'), sender: CAROL } }),
    allowed: false,
    rule: 'member.invite.thirdParty.otherwise',
  },
  {
    description: 'it should reject a third-party invite without a signed block',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { signed: null }),
    allowed: false,
    rule: 'member.invite.thirdParty.signed',
  },
  {
    description: 'it should reject a third-party invite whose signed block lacks a token',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { signed: { mxid: BOB } }),
    allowed: false,
    rule: 'member.invite.thirdParty.fields',
  },
  {
    description: 'it should reject a third-party invite issued for a different user',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { signed: signedBlock(CAROL, 'tok') }),
    allowed: false,
    rule: 'member.invite.thirdParty.mxid',
  },
  {
    description: 'it should reject a third-party invite with no matching m.room.third_party_invite',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { signed: signedBlock(BOB, 'other-token') }),
    allowed: false,
    rule: 'member.invite.thirdParty.tokenEvent',
  },
  {
    description: 'it should reject completing a third-party invite someone else issued',
    versions: ALL_VERSIONS,
    build: (fx) => thirdParty(fx, { sender: CAROL }),
    allowed: false,
    rule: 'member.invite.thirdParty.sender',
  },
  {
    description: 'it should reject a third-party invite for a banned user',
    versions: ALL_VERSIONS,
    build: (fx) => {
      const { authState, event } = thirdParty(fx);
      return { authState: [...authState, fx.member(BOB, 'ban', ALICE)], event };
    },
    allowed: false,
    rule: 'member.invite.thirdParty.targetBanned',
  },

  // 5.5: leaving, kicking, unbanning.
  {
    description: 'it should allow a member to leave',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' } }), event: fx.member(BOB, 'leave') }),
    allowed: true,
  },
  {
    description: 'it should allow an invited user to decline',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'invite' } }), event: fx.member(BOB, 'leave') }),
    allowed: true,
  },
  {
    description: 'it should reject leaving a room one is not in',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room(), event: fx.member(BOB, 'leave') }),
    allowed: false,
    rule: 'member.leave.self',
  },
  {
    description: 'it should reject a banned user lifting their own ban by leaving',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'ban' } }), event: fx.member(BOB, 'leave') }),
    allowed: false,
    rule: 'member.leave.self',
  },
  {
    description: 'it should allow withdrawing a knock',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock', members: { [BOB]: 'knock' } }), event: fx.member(BOB, 'leave') }),
    allowed: true,
  },
  {
    description: 'it should allow a moderator to kick a lower-power member',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join', [CAROL]: 'join' }, users: { [CAROL]: 50 } }),
      event: fx.member(BOB, 'leave', CAROL),
    }),
    allowed: true,
  },
  {
    description: 'it should reject kicking a user with higher power',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [CAROL]: 'join' }, users: { [CAROL]: 50 } }), event: fx.member(ALICE, 'leave', CAROL) }),
    allowed: false,
    rule: 'member.leave.otherwise',
  },
  {
    description: 'it should reject kicking a user with equal power',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join', [CAROL]: 'join' }, users: { [BOB]: 50, [CAROL]: 50 } }),
      event: fx.member(BOB, 'leave', CAROL),
    }),
    allowed: false,
    rule: 'member.leave.otherwise',
  },
  {
    description: 'it should reject a kick from a member below the kick level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join', [CAROL]: 'join' }, users: { [CAROL]: 10 } }), event: fx.member(BOB, 'leave', CAROL) }),
    allowed: false,
    rule: 'member.leave.otherwise',
  },
  {
    description: 'it should reject a kick from someone not in the room',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' }, users: { [CAROL]: 100 } }), event: fx.member(BOB, 'leave', CAROL) }),
    allowed: false,
    rule: 'member.leave.senderJoined',
  },
  {
    description: 'it should reject an unban by a member who may kick but not ban',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'ban', [CAROL]: 'join' }, users: { [CAROL]: 50 }, levels: { ban: 75 } }),
      event: fx.member(BOB, 'leave', CAROL),
    }),
    allowed: false,
    rule: 'member.leave.targetBanned',
  },
  {
    description: 'it should allow an unban by a member at the kick and ban levels',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'ban', [CAROL]: 'join' }, users: { [CAROL]: 50 } }), event: fx.member(BOB, 'leave', CAROL) }),
    allowed: true,
  },

  // 5.6: bans.
  {
    description: 'it should allow a moderator to ban a lower-power user',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [CAROL]: 'join' }, users: { [CAROL]: 50 } }), event: fx.member(BOB, 'ban', CAROL) }),
    allowed: true,
  },
  {
    description: 'it should reject banning a user with higher power',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [CAROL]: 'join' }, users: { [CAROL]: 50 } }), event: fx.member(ALICE, 'ban', CAROL) }),
    allowed: false,
    rule: 'member.ban.otherwise',
  },
  {
    description: 'it should reject a ban from a member below the ban level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [CAROL]: 'join' }, users: { [CAROL]: 49 } }), event: fx.member(BOB, 'ban', CAROL) }),
    allowed: false,
    rule: 'member.ban.otherwise',
  },
  {
    description: 'it should reject a ban from someone not in the room',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ users: { [CAROL]: 100 } }), event: fx.member(BOB, 'ban', CAROL) }),
    allowed: false,
    rule: 'member.ban.senderJoined',
  },

  // 5.7: knocks.
  {
    description: 'it should allow knocking on a knock room',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock' }), event: fx.member(BOB, 'knock') }),
    allowed: true,
  },
  {
    description: 'it should reject knocking on a public room',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room(), event: fx.member(BOB, 'knock') }),
    allowed: false,
    rule: 'member.knock.joinRule',
  },
  {
    description: 'it should reject knocking on behalf of someone else',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock' }), event: fx.member(BOB, 'knock', ALICE) }),
    allowed: false,
    rule: 'member.knock.self',
  },
  {
    description: 'it should reject a knock from a banned user',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock', members: { [BOB]: 'ban' } }), event: fx.member(BOB, 'knock') }),
    allowed: false,
    rule: 'member.knock.otherwise',
  },
  {
    description: 'it should reject a knock from a user already in the room',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock', members: { [BOB]: 'join' } }), event: fx.member(BOB, 'knock') }),
    allowed: false,
    rule: 'member.knock.otherwise',
  },
  {
    description: 'it should allow knocking on a knock_restricted room',
    versions: versionsFrom(10),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock_restricted' }), event: fx.member(BOB, 'knock') }),
    allowed: true,
  },
  {
    description: 'it should reject knocking on a knock_restricted room before v10',
    versions: versionsFrom(7, 9),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock_restricted' }), event: fx.member(BOB, 'knock') }),
    allowed: false,
    rule: 'member.knock.joinRule',
  },
];

runAuthCases(cases);
