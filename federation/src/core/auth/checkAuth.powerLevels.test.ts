// Auth rule 10 (9 in v6–v11): changing m.room.power_levels.
import { ALICE, ALL_VERSIONS, BOB, CAROL, MODERN_VERSIONS, runAuthCases, versionsFrom, type AuthCase, type Fixture } from './fixtures.js';
import type { JsonObject } from '../types.js';

/** A room where BOB (a moderator at 50, allowed to send power levels) and CAROL (at `carol`) are joined. */
function modRoom(fx: Fixture, levels: JsonObject = {}, carol: number | string = 0) {
  return fx.room({
    members: { [BOB]: 'join', [CAROL]: 'join' },
    users: { [BOB]: 50, [CAROL]: carol },
    levels: { events: { 'm.room.power_levels': 50 }, ...levels },
  });
}

/** New power levels content as BOB would send it, based on modRoom's, with changes. */
function bobSends(fx: Fixture, change: JsonObject, users: JsonObject = {}, carol: number | string = 0) {
  const base: JsonObject = fx.rules.privilegedCreators ? {} : { [ALICE]: 100 };
  return fx.powerLevels(
    { events: { 'm.room.power_levels': 50 }, ...change, users: { ...base, [BOB]: 50, [CAROL]: carol, ...users } },
    BOB,
  );
}

const cases: AuthCase[] = [
  {
    description: 'it should reject a power levels change from a user below the required level',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.powerLevels({ users: { [BOB]: 100 } }, BOB),
    }),
    allowed: false,
    rule: 'typeLevel',
  },
  {
    description: 'it should allow the first power levels event whatever it contains',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ noPowerLevels: true }),
      event: fx.powerLevels({ users: { [BOB]: 1000 }, ban: 1000, events: { 'm.room.name': 1000 } }),
    }),
    allowed: true,
  },
  {
    description: 'it should reject a user raising their own level above their current one',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, { [BOB]: 51 }) }),
    allowed: false,
    rule: 'powerLevels.usersNew',
  },
  {
    description: 'it should allow a user lowering their own level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, { [BOB]: 10 }) }),
    allowed: true,
  },
  {
    description: 'it should allow promoting another user up to the sender level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, {}, 50) }),
    allowed: true,
  },
  {
    description: 'it should reject promoting another user above the sender level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, {}, 51) }),
    allowed: false,
    rule: 'powerLevels.usersNew',
  },
  {
    description: 'it should reject demoting a user at the sender level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx, {}, 50), event: bobSends(fx, {}, {}, 0) }),
    allowed: false,
    rule: 'powerLevels.usersOld',
  },
  {
    description: 'it should reject removing the entry of a user above the sender',
    versions: versionsFrom(1, 11),
    build: (fx) => {
      const event = bobSends(fx, {});
      delete (event.pdu.content.users as JsonObject)[ALICE];
      return { authState: modRoom(fx), event };
    },
    allowed: false,
    rule: 'powerLevels.usersOld',
  },
  {
    description: 'it should reject raising a named level above the sender',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { ban: 51 }) }),
    allowed: false,
    rule: 'powerLevels.named.new',
  },
  {
    description: 'it should reject changing a named level that is above the sender',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx, { kick: 100 }), event: bobSends(fx, { kick: 0 }) }),
    allowed: false,
    rule: 'powerLevels.named.old',
  },
  {
    description: 'it should reject removing a named level that is above the sender',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx, { state_default: 100 }), event: bobSends(fx, {}) }),
    allowed: false,
    rule: 'powerLevels.named.old',
  },
  {
    description: 'it should allow changing named levels within the sender level',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { kick: 40, invite: 50, users_default: 5 }) }),
    allowed: true,
  },
  {
    description: 'it should reject adding an event level above the sender',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { events: { 'm.room.power_levels': 50, 'm.room.name': 75 } }) }),
    allowed: false,
    rule: 'powerLevels.mapsNew',
  },
  {
    description: 'it should reject changing an event level that is above the sender',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: modRoom(fx, { events: { 'm.room.power_levels': 50, 'm.room.tombstone': 100 } }),
      event: bobSends(fx, { events: { 'm.room.power_levels': 50, 'm.room.tombstone': 0 } }),
    }),
    allowed: false,
    rule: 'powerLevels.mapsOld',
  },
  {
    description: 'it should reject raising a notification level above the sender',
    versions: versionsFrom(6),
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { notifications: { room: 75 } }) }),
    allowed: false,
    rule: 'powerLevels.mapsNew',
  },
  {
    description: 'it should not police notification levels before v6',
    versions: versionsFrom(1, 5),
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { notifications: { room: 75 } }) }),
    allowed: true,
  },
  {
    description: 'it should reject users entries that are not user IDs',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, { 'not-a-user': 0 }) }),
    allowed: false,
    rule: 'powerLevels.users',
  },
  {
    description: 'it should reject users values that are not numbers',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, { [CAROL]: 'lots' }) }),
    allowed: false,
    rule: 'powerLevels.users',
  },
  {
    description: 'it should accept power levels written as strings before v10',
    versions: versionsFrom(1, 9),
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { ban: ' +40 ', events: { 'm.room.power_levels': '50' } }, {}, '050') }),
    allowed: true,
  },
  {
    description: 'it should reject a string user level from v10',
    versions: MODERN_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, {}, '10') }),
    allowed: false,
    rule: 'powerLevels.users',
  },
  {
    description: 'it should reject a string named level from v10',
    versions: MODERN_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { ban: '40' }) }),
    allowed: false,
    rule: 'powerLevels.namedInts',
  },
  {
    description: 'it should reject a string event level from v10',
    versions: MODERN_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { events: { 'm.room.power_levels': '50' } }) }),
    allowed: false,
    rule: 'powerLevels.mapInts',
  },
  {
    description: 'it should reject notifications that are not an object of integers from v10',
    versions: MODERN_VERSIONS,
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { notifications: [1] }) }),
    allowed: false,
    rule: 'powerLevels.mapInts',
  },
  {
    description: 'it should count rewriting a level from string to number as a change',
    versions: versionsFrom(1, 9),
    build: (fx) => ({ authState: modRoom(fx, { kick: '100' }), event: bobSends(fx, { kick: 100 }) }),
    allowed: false,
    rule: 'powerLevels.named.old',
  },
  {
    description: 'it should truncate floating-point levels in versions without canonical JSON',
    versions: versionsFrom(1, 5),
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, {}, {}, 50.9) }),
    allowed: true,
  },
  {
    description: 'it should reject power levels beyond the range of a double',
    versions: versionsFrom(1, 5),
    build: (fx) => ({ authState: modRoom(fx), event: bobSends(fx, { ban: Infinity }) }),
    allowed: false,
    rule: 'powerLevels.users',
  },
];

runAuthCases(cases);
