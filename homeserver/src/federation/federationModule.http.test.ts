// Federation requests through the real HTTP stack (createApp + the federation module):
// X-Matrix verification before any work, the key and version endpoints, denied
// servers, and federation switched off.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FederationRoute } from '@parley/federation/api/route';
import { generateSigningKey, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { verifyJsonSignature } from '@parley/federation/signing/signJson';
import { signRequest } from '@parley/federation/transport/xMatrix';
import { pino } from 'pino';
import { configSchema } from '../config/config.js';
import { createApp } from '../http/app.js';
import { Database } from '../storage/db.js';
import { RemoteKeysRepo } from '../storage/remoteKeysRepo.js';
import { createFederationModule, type FederationModule } from './federationModule.js';

const US = 'us.test';
const REMOTE = 'remote.test';

interface Fixture {
  base: string;
  remoteKey: SigningKey;
  ourKey: SigningKey;
  fed: FederationModule;
  /** What the echo route saw. */
  seen: Array<{ origin?: string; body: unknown; ver?: string[] }>;
}

async function withServer(fedConfig: Record<string, unknown>, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-fed-http-'));
  const db = await Database.open(dir);
  const remoteKey = generateSigningKey();
  const ourKey = generateSigningKey();
  // The remote's key is already in the cache, as if fetched earlier: no network needed.
  await new RemoteKeysRepo(db).save({
    serverName: REMOTE,
    keys: { [remoteKey.keyId]: { key: remoteKey.publicKeyBase64, validUntilTs: Date.now() + 3_600_000 } },
    fetchedTs: Date.now(),
  });
  const logger = pino({ level: 'silent' });
  const fed = createFederationModule({
    db,
    identity: { serverName: US, signingKey: ourKey },
    config: configSchema.parse({ federation: fedConfig }).federation,
    reader: { getEvents: async () => [] },
    logger,
    requester: { request: async () => ({ ok: false, kind: 'network', status: 0, errcode: 'PARLEY_NETWORK', error: 'offline' }) },
  });
  const seen: Fixture['seen'] = [];
  const echo: FederationRoute = {
    method: 'PUT',
    path: '/_matrix/federation/v1/echo/{id}',
    auth: 'server',
    spec: 'test',
    handler: (ctx) => {
      seen.push({ origin: ctx.origin, body: ctx.body, ver: ctx.queryAll?.ver });
      return { body: { origin: ctx.origin, id: ctx.params.id } };
    },
  };
  fed.addRoutes([echo]);
  const app = createApp({
    routes: fed.routesToMount(),
    authenticator: { authenticate: async () => undefined },
    serverAuthenticator: fed.serverAuthenticator,
    rateLimiter: undefined,
    logger,
    allowQueryToken: false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    await fn({ base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, remoteKey, ourKey, fed, seen });
  } finally {
    fed.stop();
    server.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function put(f: Fixture, uri: string, body: unknown, auth?: string, raw?: string) {
  const res = await fetch(f.base + uri, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
    body: raw ?? JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const sign = (uri: string, body: unknown, key: SigningKey, origin = REMOTE) =>
  signRequest({ method: 'PUT', uri, origin, destination: US, content: body as never }, key);

test('it should accept a request signed by the origin and tell the handler who sent it, repeated query values included', () =>
  withServer({}, async (f) => {
    const uri = '/_matrix/federation/v1/echo/t1?ver=10&ver=12';
    const res = await put(f, uri, { hello: 1 }, sign(uri, { hello: 1 }, f.remoteKey));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.deepEqual(res.json, { origin: REMOTE, id: 't1' });
    assert.deepEqual(f.seen, [{ origin: REMOTE, body: { hello: 1 }, ver: ['10', '12'] }]);
  }));

test('it should refuse unsigned, wrongly signed and tampered requests with 401 M_UNAUTHORIZED before running the handler', () =>
  withServer({}, async (f) => {
    const uri = '/_matrix/federation/v1/echo/t2';
    const unsigned = await put(f, uri, { a: 1 });
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.errcode, 'M_UNAUTHORIZED');
    const otherKey = generateSigningKey();
    const wrongKey = await put(f, uri, { a: 1 }, sign(uri, { a: 1 }, { ...otherKey, keyId: f.remoteKey.keyId }));
    assert.equal(wrongKey.status, 401);
    assert.equal(wrongKey.json.errcode, 'M_UNAUTHORIZED');
    const tampered = await put(f, uri, { a: 2 }, sign(uri, { a: 1 }, f.remoteKey));
    assert.equal(tampered.status, 401);
    const otherPath = await put(f, uri, { a: 1 }, sign('/_matrix/federation/v1/echo/t3', { a: 1 }, f.remoteKey));
    assert.equal(otherPath.status, 401);
    const garbage = await put(f, uri, undefined, sign(uri, { a: 1 }, f.remoteKey), '{not json');
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.errcode, 'M_NOT_JSON');
    assert.equal(f.seen.length, 0, 'no handler ran');
  }));

test('it should refuse servers on the deny list with 403 M_FORBIDDEN', () =>
  withServer({ server_name_denylist: ['*.test'] }, async (f) => {
    const uri = '/_matrix/federation/v1/echo/t4';
    const res = await put(f, uri, {}, sign(uri, {}, f.remoteKey));
    assert.equal(res.status, 403);
    assert.equal(res.json.errcode, 'M_FORBIDDEN');
  }));

test('it should publish our signed key document and server version without authentication', () =>
  withServer({}, async (f) => {
    const keys = (await (await fetch(`${f.base}/_matrix/key/v2/server`)).json()) as Record<string, any>;
    assert.equal(keys.server_name, US);
    assert.equal(keys.verify_keys[f.ourKey.keyId].key, f.ourKey.publicKeyBase64);
    assert.ok(verifyJsonSignature(keys, US, f.ourKey.keyId, f.ourKey.publicKey));
    const version = (await (await fetch(`${f.base}/_matrix/federation/v1/version`)).json()) as Record<string, any>;
    assert.equal(version.server.name, 'Parley');
  }));

test('it should answer 404 M_UNRECOGNIZED on federation paths when federation is disabled', () =>
  withServer({ enabled: false }, async (f) => {
    for (const path of ['/_matrix/key/v2/server', '/_matrix/federation/v1/version']) {
      const res = await fetch(f.base + path);
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as Record<string, unknown>).errcode, 'M_UNRECOGNIZED');
    }
  }));
