// Remote profiles are asked of the user's server once a minute at most; failures are not remembered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FederationRequest, FederationRequester } from '@parley/federation/transport/federationClient';
import { FederationProfiles } from './remoteProfiles.js';

test('it should ask the user’s server, reuse the answer for a minute, and ask again after a failure', async () => {
  const asked: FederationRequest[] = [];
  let up = true;
  const client = {
    async request(req: FederationRequest) {
      asked.push(req);
      if (!up) return { ok: false, kind: 'network', error: 'down' };
      return { ok: true, status: 200, body: { displayname: 'Bob', avatar_url: 'mxc://legal.test/b', extra: 1 } };
    },
  } as unknown as FederationRequester;
  let now = 0;
  const profiles = new FederationProfiles(client, () => now);
  assert.deepEqual(await profiles.profile('@bob:legal.test'), { displayname: 'Bob', avatar_url: 'mxc://legal.test/b' });
  assert.equal(asked[0].destination, 'legal.test');
  assert.equal(asked[0].path, '/_matrix/federation/v1/query/profile?user_id=%40bob%3Alegal.test');
  now = 59_000;
  await profiles.profile('@bob:legal.test');
  assert.equal(asked.length, 1, 'cached within a minute');
  now = 61_000;
  up = false;
  assert.equal(await profiles.profile('@bob:legal.test'), undefined);
  up = true;
  assert.equal((await profiles.profile('@bob:legal.test'))?.displayname, 'Bob');
  assert.equal(asked.length, 3, 'the failure was not cached');
});
