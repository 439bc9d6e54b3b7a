import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoomEvent } from '../types.js';
import { checkAuthEvents } from './checkAuthEvents.js';
import { ALICE, BOB, fixture, MODERN_VERSIONS } from './fixtures.js';
import { ruleNumber } from './ruleNumbers.js';

/** A joined BOB sending a message, with the auth events a correct server would cite. */
function setup(version: string) {
  const fx = fixture(version);
  const [aliceJoin, pl, joinRules] = fx.room();
  const bobJoin = fx.member(BOB, 'join');
  const msg = fx.event({ type: 'm.room.message', sender: BOB, content: { body: 'hi' } });
  const auth: RoomEvent[] = fx.rules.createEventNotInAuthEvents ? [pl, bobJoin] : [fx.create, pl, bobJoin];
  return { fx, aliceJoin, pl, joinRules, bobJoin, msg, auth };
}

const ruleOf = (r: ReturnType<typeof checkAuthEvents>): string | undefined => (r.allowed ? undefined : r.rule.split(' ')[0]);

for (const v of MODERN_VERSIONS) {
  test(`it should accept the auth events the selection algorithm picks (v${v})`, () => {
    const { fx, msg, auth } = setup(v);
    assert.deepEqual(checkAuthEvents(msg, auth, fx.rules, { createEventId: fx.create.eventId }), { allowed: true });
  });

  test(`it should reject citing the same state entry twice (v${v})`, () => {
    const { fx, msg, auth } = setup(v);
    const pl2 = fx.powerLevels({ users: {} });
    const result = checkAuthEvents(msg, [...auth, pl2], fx.rules);
    assert.equal(ruleOf(result), ruleNumber(fx.rules, 'authEvents.duplicate'));
  });

  test(`it should reject citing state the event does not depend on (v${v})`, () => {
    const { fx, msg, auth, joinRules } = setup(v);
    assert.equal(ruleOf(checkAuthEvents(msg, [...auth, joinRules], fx.rules)), ruleNumber(fx.rules, 'authEvents.selection'));
  });

  test(`it should reject citing another user's membership for a message (v${v})`, () => {
    const { fx, msg, auth, aliceJoin } = setup(v);
    assert.equal(ruleOf(checkAuthEvents(msg, [...auth, aliceJoin], fx.rules)), ruleNumber(fx.rules, 'authEvents.selection'));
  });

  test(`it should reject auth events from another room (v${v})`, () => {
    const { fx, msg, auth } = setup(v);
    const foreign = fx.member(BOB, 'join');
    const moved = auth.map((e) => (e === auth[auth.length - 1] ? { ...foreign, roomId: '!elsewhere:b.example' } : e));
    assert.equal(ruleOf(checkAuthEvents(msg, moved, fx.rules)), ruleNumber(fx.rules, 'authEvents.roomId'));
  });

  test(`it should accept any auth events for the create event (v${v})`, () => {
    const { fx } = setup(v);
    assert.deepEqual(checkAuthEvents(fx.create, [], fx.rules), { allowed: true });
  });
}

test('it should require the create event among the auth events before v12', () => {
  for (const v of ['1', '6', '10', '11']) {
    const { fx, msg, pl, bobJoin } = setup(v);
    assert.equal(ruleOf(checkAuthEvents(msg, [pl, bobJoin], fx.rules)), '2.4', `v${v}`);
  }
});

test('it should reject citing the create event in v12', () => {
  const { fx, msg, auth } = setup('12');
  assert.equal(ruleOf(checkAuthEvents(msg, [fx.create, ...auth], fx.rules)), '3.2');
});

test("it should reject a v12 event whose room ID is not the create event's ID", () => {
  const { fx, msg, auth } = setup('12');
  const other = '$' + 'D'.repeat(43);
  assert.equal(ruleOf(checkAuthEvents(msg, auth, fx.rules, { createEventId: other })), '2');
  assert.deepEqual(checkAuthEvents(msg, auth, fx.rules, { createEventId: fx.create.eventId }), { allowed: true });
});

test('it should accept the full selection for a join (join rules and target member)', () => {
  const fx = fixture('12');
  const [aliceJoin, pl, joinRules] = fx.room();
  const join = fx.member(BOB, 'join', BOB, { join_authorised_via_users_server: ALICE });
  assert.deepEqual(checkAuthEvents(join, [pl, joinRules, aliceJoin], fx.rules), { allowed: true });
});
