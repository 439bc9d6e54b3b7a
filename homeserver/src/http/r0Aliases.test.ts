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
      { path: '/_matrix/client/v1/media/config' },
    ];
    const paths = withR0Aliases(routes).map((r) => r.path);
    assert.ok(paths.includes('/_matrix/client/r0/rooms/{roomId}/send/{eventType}/{txnId}'));
    assert.equal(paths.filter((p) => p.includes('/r0/')).length, 1);
    assert.equal(isAfterR0('/_matrix/client/v3/knock/{roomIdOrAlias}'), true);
    assert.equal(isAfterR0('/_matrix/client/v3/sync'), false);
  });

  it('should add media r0 paths for upload, download, thumbnail, config and preview_url, but not asynchronous upload', () => {
    const routes = [
      { path: '/_matrix/media/v3/upload' },
      { path: '/_matrix/media/v3/upload/{serverName}/{mediaId}' },
      { path: '/_matrix/media/v3/download/{serverName}/{mediaId}' },
      { path: '/_matrix/media/v3/thumbnail/{serverName}/{mediaId}' },
      { path: '/_matrix/media/v3/config' },
      { path: '/_matrix/media/v3/preview_url' },
      { path: '/_matrix/media/v1/create' },
    ];
    const r0 = withR0Aliases(routes)
      .map((r) => r.path)
      .filter((p) => p.includes('/r0/'));
    assert.deepEqual(r0.sort(), [
      '/_matrix/media/r0/config',
      '/_matrix/media/r0/download/{serverName}/{mediaId}',
      '/_matrix/media/r0/preview_url',
      '/_matrix/media/r0/thumbnail/{serverName}/{mediaId}',
      '/_matrix/media/r0/upload',
    ]);
  });
});
