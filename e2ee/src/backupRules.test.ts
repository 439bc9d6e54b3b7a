import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shouldReplace } from './backupRules.js';
import type { KeyBackupData } from './types.js';

const key = (is_verified: boolean, first_message_index: number, forwarded_count: number): KeyBackupData => ({
  is_verified,
  first_message_index,
  forwarded_count,
  session_data: {},
});

describe('which backed-up session key is kept', () => {
  it('it should take any key when none is stored', () => {
    assert.equal(shouldReplace(undefined, key(false, 9, 9)), true);
  });
  it('it should prefer a verified key whatever its index', () => {
    assert.equal(shouldReplace(key(false, 0, 0), key(true, 50, 3)), true);
    assert.equal(shouldReplace(key(true, 50, 3), key(false, 0, 0)), false);
  });
  it('it should then prefer the key that decrypts from an earlier message', () => {
    assert.equal(shouldReplace(key(false, 5, 0), key(false, 3, 4)), true);
    assert.equal(shouldReplace(key(false, 3, 4), key(false, 5, 0)), false);
  });
  it('it should then prefer the key forwarded fewer times, and keep the stored one on a tie', () => {
    assert.equal(shouldReplace(key(true, 3, 2), key(true, 3, 1)), true);
    assert.equal(shouldReplace(key(true, 3, 1), key(true, 3, 2)), false);
    assert.equal(shouldReplace(key(true, 3, 1), key(true, 3, 1)), false);
  });
});
