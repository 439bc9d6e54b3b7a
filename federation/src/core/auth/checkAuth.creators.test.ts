// Who counts as the creator, and v12's infinitely powerful creators.
import { ALICE, BOB, CAROL, DAVE, MODERN_VERSIONS, runAuthCases, versionsFrom, type AuthCase } from './fixtures.js';

const name = (sender: string) => ({ type: 'm.room.name', sender, state_key: '', content: { name: 'x' } });

const cases: AuthCase[] = [
  // Without a power levels event the creator has 100 and others 0.
  {
    description: 'it should let the creator send state before any power levels exist',
    versions: versionsFrom(1),
    build: (fx) => ({ authState: fx.room({ noPowerLevels: true }), event: fx.event(name(ALICE)) }),
    allowed: true,
  },
  {
    description: 'it should stop other members sending state before any power levels exist',
    versions: versionsFrom(1),
    build: (fx) => ({ authState: fx.room({ noPowerLevels: true, members: { [BOB]: 'join' } }), event: fx.event(name(BOB)) }),
    allowed: false,
    rule: 'typeLevel',
  },
  {
    description: 'it should take the creator from content.creator up to v10',
    versions: versionsFrom(1, 10),
    createContent: { creator: BOB },
    build: (fx) => ({ authState: fx.room({ noPowerLevels: true, members: { [BOB]: 'join' } }), event: fx.event(name(BOB)) }),
    allowed: true,
  },
  {
    description: 'it should take the creator from the create sender from v11, ignoring content.creator',
    versions: ['11', '12'],
    createContent: { creator: BOB },
    build: (fx) => ({ authState: fx.room({ noPowerLevels: true, members: { [BOB]: 'join' } }), event: fx.event(name(BOB)) }),
    allowed: false,
    rule: 'typeLevel',
  },

  // v12: creators are infinitely powerful and cannot be listed in users.
  {
    description: 'it should let the creator change power levels without being listed in users',
    versions: ['12'],
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, users: { [BOB]: 100 } }),
      event: fx.powerLevels({ users: { [BOB]: 0 }, ban: 1_000_000 }),
    }),
    allowed: true,
  },
  {
    description: 'it should reject power levels that list the room creator',
    versions: ['12'],
    build: (fx) => ({ authState: fx.room(), event: fx.powerLevels({ users: { [ALICE]: 100 } }) }),
    allowed: false,
    rule: 'powerLevels.creators',
  },
  {
    description: 'it should reject power levels that list an additional creator',
    versions: ['12'],
    createContent: { additional_creators: [BOB] },
    build: (fx) => ({ authState: fx.room(), event: fx.powerLevels({ users: { [BOB]: 50 } }) }),
    allowed: false,
    rule: 'powerLevels.creators',
  },
  {
    description: 'it should reject even the first power levels event if it lists the creator',
    versions: ['12'],
    build: (fx) => ({ authState: fx.room({ noPowerLevels: true }), event: fx.powerLevels({ users: { [ALICE]: 100 } }) }),
    allowed: false,
    rule: 'powerLevels.creators',
  },
  {
    description: 'it should allow listing the creator in power levels before v12',
    versions: ['10', '11'],
    build: (fx) => ({ authState: fx.room(), event: fx.powerLevels({ users: { [ALICE]: 100, [BOB]: 50 } }) }),
    allowed: true,
  },
  {
    description: 'it should reject kicking the creator, even by a user at 100',
    versions: ['12'],
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' }, users: { [BOB]: 100 } }), event: fx.member(ALICE, 'leave', BOB) }),
    allowed: false,
    rule: 'member.leave.otherwise',
  },
  {
    description: 'it should allow a higher user to kick a creator whose level was lowered before v12',
    versions: MODERN_VERSIONS.filter((v) => v !== '12'),
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, users: { [ALICE]: 10, [BOB]: 100 } }),
      event: fx.member(ALICE, 'leave', BOB),
    }),
    allowed: true,
  },
  {
    description: 'it should let an additional creator ban a user at 100',
    versions: ['12'],
    createContent: { additional_creators: [DAVE] },
    build: (fx) => ({
      authState: fx.room({ members: { [DAVE]: 'join', [BOB]: 'join' }, users: { [BOB]: 100 } }),
      event: fx.member(BOB, 'ban', DAVE),
    }),
    allowed: true,
  },
  {
    description: 'it should give additional_creators no power before v12',
    versions: ['10', '11'],
    createContent: { additional_creators: [DAVE] },
    build: (fx) => ({
      authState: fx.room({ members: { [DAVE]: 'join', [BOB]: 'join' }, users: { [BOB]: 100 } }),
      event: fx.member(BOB, 'ban', DAVE),
    }),
    allowed: false,
    rule: 'member.ban.otherwise',
  },
  {
    description: 'it should reject one creator banning another',
    versions: ['12'],
    createContent: { additional_creators: [DAVE] },
    build: (fx) => ({ authState: fx.room({ members: { [DAVE]: 'join' } }), event: fx.member(ALICE, 'ban', DAVE) }),
    allowed: false,
    rule: 'member.ban.otherwise',
  },
  {
    description: 'it should let a creator send any event however high its level is set',
    versions: ['12'],
    build: (fx) => ({
      authState: fx.room({ levels: { events: { 'm.room.tombstone': 9_007_199_254_740_991 } } }),
      event: fx.event({ type: 'm.room.tombstone', sender: ALICE, state_key: '', content: { body: 'moved', replacement_room: '!new' } }),
    }),
    allowed: true,
  },
  {
    description: 'it should let a creator authorise restricted joins',
    versions: ['12'],
    build: (fx) => ({
      authState: fx.room({ joinRule: 'restricted', levels: { invite: 100 } }),
      event: fx.member(CAROL, 'join', CAROL, { join_authorised_via_users_server: ALICE }),
      opts: { isSignedBy: (_p, server) => server === 'a.example' },
    }),
    allowed: true,
  },
];

runAuthCases(cases);
