// Discovery endpoints and CORS: what any client does before logging in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import { expectError, expectOk, rawRequest, registerUser } from './harness/http.js';

describe('discovery and CORS', () => {
  const ctx = useServer();

  it('should list supported spec versions at GET /_matrix/client/versions', async () => {
    const res = await rawRequest(ctx.server, 'GET', '/_matrix/client/versions');
    const json = expectOk(res, 'GET /versions');
    assert.ok(Array.isArray(json.versions) && json.versions.length > 0, 'versions must be a non-empty array');
    for (const v of json.versions) assert.match(v, /^(v\d+\.\d+|r0\.\d+\.\d+)$/, `version "${v}" is not a spec version string`);
    assert.ok(json.versions.some((v: string) => /^v1\.\d+$/.test(v)), 'a modern client needs at least one v1.x version');
    if (json.unstable_features !== undefined) {
      assert.equal(typeof json.unstable_features, 'object');
      for (const [k, val] of Object.entries(json.unstable_features)) assert.equal(typeof val, 'boolean', `unstable_features.${k} must be boolean`);
    }
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });

  it('should describe capabilities including room versions and change_password', async () => {
    const unauth = await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/capabilities');
    expectError(unauth, 401, 'M_MISSING_TOKEN', 'GET /capabilities without a token');
    const alice = await registerUser(ctx.server);
    const res = await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/capabilities', { token: alice.accessToken });
    const caps = expectOk(res, 'GET /capabilities').capabilities;
    assert.equal(typeof caps, 'object', 'response must have a capabilities object');
    const rv = caps['m.room_versions'];
    assert.ok(rv, 'm.room_versions capability missing');
    assert.equal(typeof rv.default, 'string');
    assert.equal(typeof rv.available, 'object');
    assert.ok(rv.default in rv.available, `default room version ${rv.default} must be listed in available`);
    for (const [ver, stability] of Object.entries(rv.available)) {
      assert.ok(stability === 'stable' || stability === 'unstable', `room version ${ver} has stability ${String(stability)}`);
    }
    assert.equal(rv.available[rv.default], 'stable', 'the default room version should be stable');
    // rooms/_index.md: versions 1 and 2 are stable too, and rooms of them can be created (as in Synapse).
    assert.equal(rv.available['1'], 'stable');
    assert.equal(rv.available['2'], 'stable');
    if (caps['m.change_password'] !== undefined) assert.equal(typeof caps['m.change_password'].enabled, 'boolean');
  });

  it('should serve /.well-known/matrix/client pointing at the homeserver', async () => {
    const res = await rawRequest(ctx.server, 'GET', '/.well-known/matrix/client');
    const json = expectOk(res, 'GET /.well-known/matrix/client');
    assert.equal(typeof json['m.homeserver']?.base_url, 'string', 'm.homeserver.base_url must be a string');
    const base = new URL(json['m.homeserver'].base_url);
    assert.ok(base.protocol === 'http:' || base.protocol === 'https:', `base_url ${base} is not http(s)`);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', 'well-known should carry CORS headers');
  });

  it('should answer a CORS preflight OPTIONS with the recommended headers and no endpoint logic', async () => {
    const preflight = await rawRequest(ctx.server, 'OPTIONS', '/_matrix/client/v3/account/whoami', {
      headers: {
        Origin: 'https://app.example.org',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    assert.ok(preflight.status === 200 || preflight.status === 204, `OPTIONS must succeed without a token (no endpoint logic), got HTTP ${preflight.status} ${preflight.text}`);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    const methods = (preflight.headers.get('access-control-allow-methods') ?? '').toUpperCase().split(/\s*,\s*/);
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']) assert.ok(methods.includes(m), `Access-Control-Allow-Methods lacks ${m}: ${methods.join(',')}`);
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/);
    for (const h of ['x-requested-with', 'content-type', 'authorization']) assert.ok(allowed.includes(h), `Access-Control-Allow-Headers lacks ${h}: ${allowed.join(',')}`);

    // OPTIONS on a state-changing endpoint must not run it.
    const opt = await rawRequest(ctx.server, 'OPTIONS', '/_matrix/client/v3/createRoom', { headers: { Origin: 'https://app.example.org', 'Access-Control-Request-Method': 'POST' } });
    assert.ok(opt.status === 200 || opt.status === 204, `OPTIONS /createRoom: HTTP ${opt.status}`);

    // Ordinary responses (including errors) carry CORS headers too.
    const get = await rawRequest(ctx.server, 'GET', '/_matrix/client/versions', { headers: { Origin: 'https://app.example.org' } });
    assert.equal(get.headers.get('access-control-allow-origin'), '*', 'GET /versions lacks Access-Control-Allow-Origin');
    const err = await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/account/whoami', { headers: { Origin: 'https://app.example.org' } });
    assert.equal(err.status, 401);
    assert.equal(err.headers.get('access-control-allow-origin'), '*', 'error responses must carry CORS headers as well');
  });
});
