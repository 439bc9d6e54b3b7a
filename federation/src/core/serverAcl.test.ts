import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAllowedByAcl } from './serverAcl.js';

test('it should let every server in when the room has no ACL', () => {
  assert.equal(serverAllowedByAcl('evil.example', undefined), true);
});

test('it should deny servers matching a deny glob even when allowed, ignoring ports and case', () => {
  const acl = { allow: ['*'], deny: ['*.evil.example', 'bad?.org'] };
  assert.equal(serverAllowedByAcl('a.EVIL.example:8448', acl), false);
  assert.equal(serverAllowedByAcl('bad1.org', acl), false);
  assert.equal(serverAllowedByAcl('bad12.org', acl), true);
  assert.equal(serverAllowedByAcl('good.example', acl), true);
});

test('it should deny everyone not on the allow list, and IP literals when asked to', () => {
  assert.equal(serverAllowedByAcl('hr.corp', { allow: ['hr.corp'] }), true);
  assert.equal(serverAllowedByAcl('legal.corp', { allow: ['hr.corp'] }), false);
  assert.equal(serverAllowedByAcl('legal.corp', {}), false);
  assert.equal(serverAllowedByAcl('127.0.0.1:8448', { allow: ['*'], allow_ip_literals: false }), false);
  assert.equal(serverAllowedByAcl('127.0.0.1:8448', { allow: ['*'] }), true);
});
