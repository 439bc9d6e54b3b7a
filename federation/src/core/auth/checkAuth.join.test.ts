// Auth rules 5.1–5.3: membership events in general, and joins (incl. restricted joins).
import { ALICE, ALL_VERSIONS, BOB, CAROL, runAuthCases, versionsFrom, type AuthCase } from './fixtures.js';
import type { AuthOptions } from './types.js';

const signedByAll: AuthOptions = { isSignedBy: () => true };
const via = (user: string) => ({ join_authorised_via_users_server: user });

const cases: AuthCase[] = [
  // 5.1 / 5.8: shape and unknown memberships.
  {
    description: 'it should reject a membership event without a membership',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room(),
      event: fx.event({ type: 'm.room.member', sender: BOB, state_key: BOB, content: {} }),
    }),
    allowed: false,
    rule: 'member.fields',
  },
  {
    description: 'it should reject a membership event without a state_key',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room(),
      event: fx.event({ type: 'm.room.member', sender: BOB, content: { membership: 'join' } }),
    }),
    allowed: false,
    rule: 'member.fields',
  },
  {
    description: 'it should reject an unknown membership value',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' } }), event: fx.member(BOB, 'dance') }),
    allowed: false,
    rule: 'member.unknown',
  },
  {
    description: 'it should reject knocking in room versions without knocking',
    versions: versionsFrom(1, 6),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock' }), event: fx.member(BOB, 'knock') }),
    allowed: false,
    rule: 'member.unknown',
  },

  // 5.3.1: the creator's first join.
  {
    description: "it should allow the creator's join that directly follows the create event",
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: [], event: fx.member(ALICE, 'join'), opts: { createEventId: fx.create.eventId } }),
    allowed: true,
  },
  {
    description: "it should allow the creator's first join without being told the create event's ID",
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: [], event: fx.member(ALICE, 'join') }),
    allowed: true,
  },
  {
    description: "it should reject a creator's join that does not follow the create event in a room without join rules",
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: [],
      event: fx.event({ type: 'm.room.member', sender: ALICE, state_key: ALICE, content: { membership: 'join' }, prev_events: ['$elsewhere'] }),
      opts: { createEventId: fx.create.eventId },
    }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should reject a first join by someone other than the creator',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: [], event: fx.member(BOB, 'join'), opts: { createEventId: fx.create.eventId } }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should reject a first join by an additional creator, who is not the create sender',
    versions: ['12'],
    createContent: { additional_creators: [BOB] },
    build: (fx) => ({ authState: [], event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.otherwise',
  },

  // 5.3.2–5.3.7.
  {
    description: 'it should allow joining a public room',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room(), event: fx.member(BOB, 'join') }),
    allowed: true,
  },
  {
    description: 'it should reject joining on behalf of someone else',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' } }), event: fx.member(CAROL, 'join', BOB) }),
    allowed: false,
    rule: 'member.join.senderIsTarget',
  },
  {
    description: 'it should reject a banned user joining a public room',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'ban' } }), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.banned',
  },
  {
    description: 'it should reject joining an invite-only room without an invite',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ joinRule: 'invite' }), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should allow an invited user to join an invite-only room',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ joinRule: 'invite', members: { [BOB]: 'invite' } }), event: fx.member(BOB, 'join') }),
    allowed: true,
  },
  {
    description: 'it should treat a room without join rules as invite-only',
    versions: ALL_VERSIONS,
    build: (fx) => {
      const authState = fx.room().filter((e) => e.pdu.type !== 'm.room.join_rules');
      return { authState, event: fx.member(BOB, 'join') };
    },
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should reject joining a private room',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ joinRule: 'private', members: { [BOB]: 'invite' } }), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should allow an invited user to join a knock room',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock', members: { [BOB]: 'invite' } }), event: fx.member(BOB, 'join') }),
    allowed: true,
  },
  {
    description: 'it should reject a user who only knocked joining a knock room',
    versions: versionsFrom(7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock', members: { [BOB]: 'knock' } }), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should not know the knock join rule before v7',
    versions: versionsFrom(1, 6),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock', members: { [BOB]: 'invite' } }), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.otherwise',
  },

  // 5.2 and 5.3.5: restricted joins.
  {
    description: 'it should allow a restricted join authorised by a joined member who may invite',
    versions: versionsFrom(8),
    build: (fx) => ({ authState: fx.room({ joinRule: 'restricted' }), event: fx.member(BOB, 'join', BOB, via(ALICE)), opts: signedByAll }),
    allowed: true,
  },
  {
    description: 'it should reject a restricted join whose authorising server did not sign it',
    versions: versionsFrom(8),
    build: (fx) => ({
      authState: fx.room({ joinRule: 'restricted' }),
      event: fx.member(BOB, 'join', BOB, via(ALICE)),
      opts: { isSignedBy: (_pdu, server) => server === 'b.example' },
    }),
    allowed: false,
    rule: 'member.authorisedVia.signed',
  },
  {
    description: 'it should reject join_authorised_via_users_server when signatures cannot be checked',
    versions: versionsFrom(8),
    build: (fx) => ({ authState: fx.room({ joinRule: 'restricted' }), event: fx.member(BOB, 'join', BOB, via(ALICE)) }),
    allowed: false,
    rule: 'member.authorisedVia.signed',
  },
  {
    description: 'it should reject a restricted join without an authorising user',
    versions: versionsFrom(8),
    build: (fx) => ({ authState: fx.room({ joinRule: 'restricted' }), event: fx.member(BOB, 'join'), opts: signedByAll }),
    allowed: false,
    rule: 'member.join.restricted.authoriser',
  },
  {
    description: 'it should reject a restricted join authorised by someone not in the room',
    versions: versionsFrom(8),
    build: (fx) => ({
      authState: fx.room({ joinRule: 'restricted', users: { [CAROL]: 100 } }),
      event: fx.member(BOB, 'join', BOB, via(CAROL)),
      opts: signedByAll,
    }),
    allowed: false,
    rule: 'member.join.restricted.authoriser',
  },
  {
    description: 'it should reject a restricted join authorised by a member below the invite level',
    versions: versionsFrom(8),
    build: (fx) => ({
      authState: fx.room({ joinRule: 'restricted', members: { [CAROL]: 'join' }, levels: { invite: 50 } }),
      event: fx.member(BOB, 'join', BOB, via(CAROL)),
      opts: signedByAll,
    }),
    allowed: false,
    rule: 'member.join.restricted.authoriser',
  },
  {
    description: 'it should allow an invited user into a restricted room without an authoriser',
    versions: versionsFrom(8),
    build: (fx) => ({ authState: fx.room({ joinRule: 'restricted', members: { [BOB]: 'invite' } }), event: fx.member(BOB, 'join') }),
    allowed: true,
  },
  {
    description: 'it should not know the restricted join rule before v8',
    versions: versionsFrom(1, 7),
    build: (fx) => ({ authState: fx.room({ joinRule: 'restricted' }), event: fx.member(BOB, 'join', BOB, via(ALICE)), opts: signedByAll }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
  {
    description: 'it should allow an authorised join to a knock_restricted room',
    versions: versionsFrom(10),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock_restricted' }), event: fx.member(BOB, 'join', BOB, via(ALICE)), opts: signedByAll }),
    allowed: true,
  },
  {
    description: 'it should reject an unauthorised join to a knock_restricted room',
    versions: versionsFrom(10),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock_restricted' }), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'member.join.restricted.authoriser',
  },
  {
    description: 'it should not know the knock_restricted join rule before v10',
    versions: versionsFrom(8, 9),
    build: (fx) => ({ authState: fx.room({ joinRule: 'knock_restricted' }), event: fx.member(BOB, 'join', BOB, via(ALICE)), opts: signedByAll }),
    allowed: false,
    rule: 'member.join.otherwise',
  },
];

runAuthCases(cases);
