import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BOB, CAROL, fixture } from './fixtures.js';
import { joinRuleOf, membershipOf } from './membership.js';

test("it should report a user's membership, and leave for users never seen", () => {
  const fx = fixture('12');
  const state = fx.state(fx.room({ members: { [BOB]: 'ban' } }));
  assert.equal(membershipOf(BOB, state), 'ban');
  assert.equal(membershipOf(CAROL, state), 'leave');
});

test('it should report the join rule, and invite when the room has none', () => {
  const fx = fixture('12');
  assert.equal(joinRuleOf(fx.state(fx.room({ joinRule: 'knock' }))), 'knock');
  assert.equal(joinRuleOf(fx.state([])), 'invite');
});
