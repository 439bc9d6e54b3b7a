import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAfterR0, withR0Aliases } from './r0Aliases.js';

describe('r0 aliases', () => {
  it('should add an r0 path for v3 endpoints that r0 had, and none for later ones or other prefixes', () => {
    const routes = [
      { path: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}' },
      { path: '/_matrix/client/v3/knock/{roomIdOrAlias}' },
      { path: '/_matrix/client/v3/refresh' },
      { path: '/_matrix/client/v1/rooms/{roomId}/hierarchy' },
      { path: '/_matrix/media/v3/upload' },
    ];
    const paths = withR0Aliases(routes).map((r) => r.path);
    assert.ok(paths.includes('/_matrix/client/r0/rooms/{roomId}/send/{eventType}/{txnId}'));
    assert.equal(paths.filter((p) => p.includes('/r0/')).length, 1);
    assert.equal(isAfterR0('/_matrix/client/v3/knock/{roomIdOrAlias}'), true);
    assert.equal(isAfterR0('/_matrix/client/v3/sync'), false);
  });
});
