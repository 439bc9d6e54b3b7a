import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ROOM_VERSION, roomVersion } from './roomVersions.js';

test('it should know room versions 1 to 12 and default new rooms to 12', () => {
  for (let v = 1; v <= 12; v++) assert.equal(roomVersion(String(v))?.id, String(v));
  assert.equal(roomVersion('13'), undefined);
  assert.equal(DEFAULT_ROOM_VERSION, '12');
});

test('it should carry each rule change from the version that introduced it onwards', () => {
  assert.equal(roomVersion('3')?.eventIdFormat, 'v3');
  assert.equal(roomVersion('4')?.eventIdFormat, 'v4');
  assert.equal(roomVersion('6')?.strictCanonicalJson, true);
  assert.equal(roomVersion('5')?.strictCanonicalJson, false);
  assert.equal(roomVersion('10')?.integerPowerLevels, true);
  assert.equal(roomVersion('11')?.creatorIsSender, true);
  assert.equal(roomVersion('11')?.roomIdIsCreateEventHash, false);
  assert.equal(roomVersion('12')?.roomIdIsCreateEventHash, true);
  assert.equal(roomVersion('12')?.stateRes, 'v2.1');
});
