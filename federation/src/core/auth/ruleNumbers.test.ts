import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roomVersion } from '../roomVersions.js';
import { ruleNumber } from './ruleNumbers.js';

const num = (v: string, path: string): string => ruleNumber(roomVersion(v)!, path);

test("it should number rules as each room version's spec page does", () => {
  // rooms/v12.md
  assert.equal(num('12', 'roomId'), '2');
  assert.equal(num('12', 'member.join.banned'), '5.3.3');
  assert.equal(num('12', 'member.join.restricted.authoriser'), '5.3.5.2');
  assert.equal(num('12', 'member.invite.thirdParty.signature'), '5.4.1.7');
  assert.equal(num('12', 'member.knock.joinRule'), '5.7.1');
  assert.equal(num('12', 'powerLevels.creators'), '10.4');
  assert.equal(num('12', 'powerLevels.usersNew'), '10.10');
  assert.equal(num('12', 'authEvents.roomId'), '3.5');
  assert.equal(num('12', 'create.additionalCreators'), '1.4');
  // rooms/v10.md, v11.md
  assert.equal(num('11', 'member.join.banned'), '4.3.3');
  assert.equal(num('10', 'powerLevels.users'), '9.3');
  assert.equal(num('10', 'create.creator'), '1.4');
  assert.equal(num('11', 'create.allow'), '1.4');
  // v8-auth-rules.md, v3-auth-rules.md via v6/v7, v1-auth-rules.md
  assert.equal(num('8', 'member.authorisedVia.signed'), '4.2.1');
  assert.equal(num('7', 'member.knock.self'), '4.6.2');
  assert.equal(num('8', 'member.knock.self'), '4.7.2');
  assert.equal(num('6', 'member.unknown'), '4.6');
  assert.equal(num('5', 'aliases.domain'), '4.2');
  assert.equal(num('5', 'powerLevels.usersNew'), '10.7');
  assert.equal(num('1', 'redaction.otherwise'), '11.3');
  assert.equal(num('3', 'otherwise'), '11');
});

test('it should refuse rules a room version does not have', () => {
  assert.throws(() => num('11', 'roomId'));
  assert.throws(() => num('6', 'aliases'));
  assert.throws(() => num('3', 'redaction'));
});
