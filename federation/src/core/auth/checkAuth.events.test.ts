// Auth rules 1, 4, the v1–v5 aliases rule, 6–9 and the v1–v2 redaction rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEventAuth } from './checkAuth.js';
import { ALICE, ALL_VERSIONS, BOB, DAVE, fixture, runAuthCases, versionsFrom, type AuthCase } from './fixtures.js';
import { stateFromEvents } from './stateLookup.js';

const message = (sender: string) => ({ type: 'm.room.message', sender, content: { body: 'hi' } });

const cases: AuthCase[] = [
  // Rule 1: create events.
  {
    description: 'it should allow a well-formed create event',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: [], event: fx.create }),
    allowed: true,
  },
  {
    description: 'it should reject a create event that has prev_events',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: [],
      event: { ...fx.create, pdu: { ...fx.create.pdu, prev_events: ['$other'] } },
    }),
    allowed: false,
    rule: 'create.prevEvents',
  },
  {
    description: "it should reject a create event whose room ID is not on the sender's server",
    versions: versionsFrom(1, 11),
    build: (fx) => ({
      authState: [],
      event: { ...fx.create, pdu: { ...fx.create.pdu, sender: BOB, content: { ...fx.create.pdu.content, creator: BOB } } },
    }),
    allowed: false,
    rule: 'create.roomIdDomain',
  },
  {
    description: 'it should reject a create event that carries a room_id',
    versions: ['12'],
    build: (fx) => ({ authState: [], event: { ...fx.create, pdu: { ...fx.create.pdu, room_id: fx.roomId } } }),
    allowed: false,
    rule: 'create.hasRoomId',
  },
  {
    description: 'it should reject a create event for an unknown room version',
    versions: ALL_VERSIONS,
    createContent: { room_version: '999' },
    build: (fx) => ({ authState: [], event: fx.create }),
    allowed: false,
    rule: 'create.roomVersion',
  },
  {
    description: 'it should reject a create event without a creator',
    versions: versionsFrom(1, 10),
    build: (fx) => {
      const { creator: _drop, ...content } = fx.create.pdu.content;
      return { authState: [], event: { ...fx.create, pdu: { ...fx.create.pdu, content } } };
    },
    allowed: false,
    rule: 'create.creator',
  },
  {
    description: 'it should allow a create event without a creator property',
    versions: ['11', '12'],
    build: (fx) => ({ authState: [], event: fx.create }),
    allowed: true,
  },
  {
    description: 'it should allow additional_creators listing valid user IDs',
    versions: ['12'],
    createContent: { additional_creators: [BOB, DAVE] },
    build: (fx) => ({ authState: [], event: fx.create }),
    allowed: true,
  },
  {
    description: 'it should reject additional_creators that is not a list',
    versions: ['12'],
    createContent: { additional_creators: BOB },
    build: (fx) => ({ authState: [], event: fx.create }),
    allowed: false,
    rule: 'create.additionalCreators',
  },
  {
    description: 'it should reject additional_creators containing something that is not a user ID',
    versions: ['12'],
    createContent: { additional_creators: [BOB, 'not-a-user'] },
    build: (fx) => ({ authState: [], event: fx.create }),
    allowed: false,
    rule: 'create.additionalCreators',
  },

  // Rule 4 (3 before v12): m.federate.
  {
    description: 'it should reject a join from another server when m.federate is false',
    versions: ALL_VERSIONS,
    createContent: { 'm.federate': false },
    build: (fx) => ({ authState: fx.room(), event: fx.member(BOB, 'join') }),
    allowed: false,
    rule: 'federate',
  },
  {
    description: "it should allow a join from the creator's server when m.federate is false",
    versions: ALL_VERSIONS,
    createContent: { 'm.federate': false },
    build: (fx) => ({ authState: fx.room(), event: fx.member(DAVE, 'join') }),
    allowed: true,
  },

  // v1–v5 rule 4: m.room.aliases.
  {
    description: "it should let a server publish aliases under its own name without being in the room",
    versions: versionsFrom(1, 5),
    build: (fx) => ({
      authState: fx.room(),
      event: fx.event({ type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: { aliases: [] } }),
    }),
    allowed: true,
  },
  {
    description: "it should reject aliases published under another server's name",
    versions: versionsFrom(1, 5),
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.event({ type: 'm.room.aliases', sender: BOB, state_key: 'a.example', content: { aliases: [] } }),
    }),
    allowed: false,
    rule: 'aliases.domain',
  },
  {
    description: 'it should treat m.room.aliases as ordinary state from v6 (non-members rejected)',
    versions: versionsFrom(6),
    build: (fx) => ({
      authState: fx.room(),
      event: fx.event({ type: 'm.room.aliases', sender: BOB, state_key: 'b.example', content: { aliases: [] } }),
    }),
    allowed: false,
    rule: 'joined',
  },

  // Rule 6: the sender must be joined.
  {
    description: 'it should reject a message from a non-member',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room(), event: fx.event(message(BOB)) }),
    allowed: false,
    rule: 'joined',
  },
  {
    description: 'it should reject a message from a user who has only been invited',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'invite' } }), event: fx.event(message(BOB)) }),
    allowed: false,
    rule: 'joined',
  },
  {
    description: 'it should allow a message from a joined member',
    versions: ALL_VERSIONS,
    build: (fx) => ({ authState: fx.room({ members: { [BOB]: 'join' } }), event: fx.event(message(BOB)) }),
    allowed: true,
  },

  // Rule 7: m.room.third_party_invite.
  {
    description: 'it should allow a third-party invite from a member at the invite level',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.event({ type: 'm.room.third_party_invite', sender: BOB, state_key: 'tok', content: { display_name: 'x' } }),
    }),
    allowed: true,
  },
  {
    description: 'it should reject a third-party invite from a member below the invite level',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, levels: { invite: 50 } }),
      event: fx.event({ type: 'm.room.third_party_invite', sender: BOB, state_key: 'tok', content: { display_name: 'x' } }),
    }),
    allowed: false,
    rule: 'thirdPartyInvite.level',
  },

  // Rule 8: the event type's required power level.
  {
    description: 'it should reject a state event from a member below state_default',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.event({ type: 'm.room.name', sender: BOB, state_key: '', content: { name: 'x' } }),
    }),
    allowed: false,
    rule: 'typeLevel',
  },
  {
    description: 'it should allow a state event whose type is lowered in events',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, levels: { events: { 'm.room.topic': 0 } } }),
      event: fx.event({ type: 'm.room.topic', sender: BOB, state_key: '', content: { topic: 'x' } }),
    }),
    allowed: true,
  },
  {
    description: 'it should reject a message when events_default is above the sender',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, levels: { events_default: 10 } }),
      event: fx.event(message(BOB)),
    }),
    allowed: false,
    rule: 'typeLevel',
  },

  // Rule 9: state keys that are user IDs belong to that user.
  {
    description: "it should reject a state event keyed to another user's ID",
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, levels: { state_default: 0 } }),
      event: fx.event({ type: 'org.example.status', sender: BOB, state_key: ALICE, content: {} }),
    }),
    allowed: false,
    rule: 'stateKey',
  },
  {
    description: "it should allow a state event keyed to the sender's own ID",
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, levels: { state_default: 0 } }),
      event: fx.event({ type: 'org.example.status', sender: BOB, state_key: BOB, content: {} }),
    }),
    allowed: true,
  },

  // v1–v2 rule 11: redactions; later versions leave them to the usual type level.
  {
    description: "it should reject redacting another server's event below the redact level",
    versions: ['1', '2'],
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.event({ type: 'm.room.redaction', sender: BOB, redacts: '$x:a.example', content: {} }),
    }),
    allowed: false,
    rule: 'redaction.otherwise',
  },
  {
    description: "it should allow redacting an event from the redacter's own server below the redact level",
    versions: ['1', '2'],
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.event({ type: 'm.room.redaction', sender: BOB, redacts: '$x:b.example', content: {} }),
    }),
    allowed: true,
  },
  {
    description: "it should allow redacting another server's event at the redact level",
    versions: ['1', '2'],
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, users: { [BOB]: 50 } }),
      event: fx.event({ type: 'm.room.redaction', sender: BOB, redacts: '$x:a.example', content: {} }),
    }),
    allowed: true,
  },
  {
    description: 'it should leave redaction permission to the receiving server from v3',
    versions: versionsFrom(3),
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' } }),
      event: fx.event({ type: 'm.room.redaction', sender: BOB, redacts: '$x', content: { redacts: '$x' } }),
    }),
    allowed: true,
  },
  {
    description: 'it should reject a redaction when m.room.redaction needs more power than the sender has',
    versions: ALL_VERSIONS,
    build: (fx) => ({
      authState: fx.room({ members: { [BOB]: 'join' }, levels: { events: { 'm.room.redaction': 50 } } }),
      event: fx.event({ type: 'm.room.redaction', sender: BOB, redacts: '$x:b.example', content: { redacts: '$x:b.example' } }),
    }),
    allowed: false,
    rule: 'typeLevel',
  },
];

runAuthCases(cases);

test('it should reject every non-create event when the state has no create event', () => {
  for (const v of ALL_VERSIONS) {
    const fx = fixture(v);
    const result = checkEventAuth(fx.event(message(ALICE)), stateFromEvents(fx.room()), fx.rules);
    assert.equal(result.allowed, false, `v${v}`);
    // v12: the room ID must name a create event (rule 2); before, auth_events must cite one (2.4).
    assert.equal(!result.allowed && result.rule.split(' ')[0], v === '12' ? '2' : '2.4');
  }
});

test('it should explain a rejection with a numbered rule and a sentence', () => {
  const fx = fixture('12');
  const result = fx.check(fx.event(message(BOB)), fx.room());
  assert.deepEqual(result, { allowed: false, rule: '6 sender is not joined', reason: 'You are not a member of this room.' });
  const v11 = fixture('11');
  const old = v11.check(v11.event(message(BOB)), v11.room());
  assert.equal(!old.allowed && old.rule, '5 sender is not joined');
});
