import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { FederationRoute } from '../api/route.js';
import { versionRoute } from '../api/version.js';
import { generateSigningKey } from '../signing/ed25519Key.js';
import { createFederationTransport, type FederationTransportConfig } from './createTransport.js';
import { startTestServer, type TestServer } from './testServer.js';
import { makeTestPki, type TestPki } from './testCa.js';
import { buildTrustedCas } from './trustStore.js';

const origin = { serverName: 'origin.test', signingKey: generateSigningKey('o1') };
let pki: TestPki;
let srv: TestServer;
let hang: Set<() => void>;

const routes: FederationRoute[] = [
  versionRoute('1.2.3'),
  { method: 'GET', path: '/_matrix/federation/v1/whoami', auth: 'server', spec: 'test', handler: (ctx) => ({ body: { origin: ctx.origin } }) },
  { method: 'PUT', path: '/_matrix/federation/v1/echo/{id}', auth: 'server', spec: 'test', handler: (ctx) => ({ body: { id: ctx.params.id, got: ctx.body, origin: ctx.origin } }) },
  { method: 'GET', path: '/_matrix/federation/v1/forbidden', auth: 'none', spec: 'test', handler: () => ({ status: 403, body: { errcode: 'M_FORBIDDEN', error: 'no' } }) },
  { method: 'GET', path: '/_matrix/federation/v1/busy', auth: 'none', spec: 'test', handler: () => ({ status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'slow down', retry_after_ms: 1500 } }) },
  { method: 'GET', path: '/_matrix/federation/v1/hang', auth: 'none', spec: 'test', handler: () => new Promise((r) => hang.add(() => r({ body: {} }))) },
];

before(async () => {
  hang = new Set();
  pki = makeTestPki(['IP:127.0.0.1', 'DNS:hs.test']);
  // The destination accepts requests signed by origin.test and addressed to it by either name.
  const auth = {
    serverName: '', // set below, once the port is known
    keys: { getRequestKey: async (s: string, k: string) => (s === origin.serverName && k === origin.signingKey.keyId ? origin.signingKey.publicKey : undefined) },
  };
  srv = await startTestServer({ cert: pki.serverCert, key: pki.serverKey }, routes, auth);
  auth.serverName = dest();
});

after(async () => {
  for (const release of hang) release();
  await srv.close();
  pki.cleanup();
});

const transport = (over: Partial<FederationTransportConfig> = {}) =>
  createFederationTransport({ identity: origin, ca: [pki.caCert], policy: { ipRangeBlocklist: [] }, ...over });
const dest = () => `127.0.0.1:${srv.port}`;

test('it should fetch JSON over HTTPS from an IP-literal server name with a CA from config', async () => {
  const t = transport({ ca: undefined, extraCaFiles: [pki.caCertFile] });
  const res = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/version', signed: false });
  t.close();
  assert.deepEqual(res, { ok: true, status: 200, body: { server: { name: 'Parley', version: '1.2.3' } } });
});

test('it should keep trusting NODE_EXTRA_CA_CERTS when extra CAs are configured', async () => {
  const t = transport({ ca: buildTrustedCas([], { NODE_EXTRA_CA_CERTS: pki.caCertFile }) });
  const res = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  assert.equal(res.ok, true);
});

test('it should sign requests so the destination authenticates the origin', async () => {
  const t = transport();
  const res = await t.client.request({ destination: dest(), method: 'PUT', path: '/_matrix/federation/v1/echo/a%20b?q=1', body: { hello: ['w', 1] } });
  const who = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/whoami' });
  t.close();
  assert.deepEqual(res, { ok: true, status: 200, body: { id: 'a b', got: { hello: ['w', 1] }, origin: 'origin.test' } });
  assert.deepEqual(who, { ok: true, status: 200, body: { origin: 'origin.test' } });
});

test('it should verify the certificate against the server name, not the address', async () => {
  const lookup = { lookup: async () => [{ address: '127.0.0.1', family: 4 }] };
  const good = transport({ lookup });
  const ok = await good.client.request({ destination: `hs.test:${srv.port}`, method: 'GET', path: '/_matrix/federation/v1/version' });
  const bad = await good.client.request({ destination: `other.test:${srv.port}`, method: 'GET', path: '/_matrix/federation/v1/version' });
  good.close();
  assert.equal(ok.ok, true);
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.kind, 'tls');
});

test('it should refuse a certificate from an untrusted CA', async () => {
  const t = transport({ ca: undefined }); // system roots only
  const res = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  assert.equal(res.ok, false);
  if (!res.ok) assert.deepEqual([res.kind, res.status], ['tls', 0]);
});

test('it should block loopback by default, also when a name resolves to it (DNS rebinding)', async () => {
  for (const address of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) {
    const t = transport({ policy: undefined, lookup: { lookup: async () => [{ address, family: address.includes(':') ? 6 : 4 }] } });
    const direct = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/version' });
    const named = await t.client.request({ destination: `rebind.test:${srv.port}`, method: 'GET', path: '/_matrix/federation/v1/version' });
    t.close();
    assert.equal(direct.ok === false && direct.kind, 'blocked');
    assert.equal(named.ok === false && named.kind, 'blocked', address);
  }
});

test('it should connect to the permitted address when a name has several', async () => {
  const lookup = { lookup: async () => [{ address: '10.0.0.1', family: 4 }, { address: '127.0.0.1', family: 4 }] };
  const t = transport({ lookup, policy: { ipRangeAllowlist: ['127.0.0.0/8'] } });
  const res = await t.client.request({ destination: `hs.test:${srv.port}`, method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  assert.equal(res.ok, true);
});

test('it should refuse denied server names before resolving them', async () => {
  const t = transport({ policy: { ipRangeBlocklist: [], serverNameDenylist: ['127.0.0.*'] } });
  const res = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  assert.deepEqual(res.ok === false && [res.kind, res.errcode], ['denied', 'PARLEY_DENIED']);
});

test('it should reach a server through the override map', async () => {
  const t = transport({ overrides: { 'hr.corp': dest() } });
  const res = await t.client.request({ destination: 'hr.corp', method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  // The certificate must still be valid for hr.corp, which the test certificate is not.
  assert.equal(res.ok === false && res.kind, 'tls');
  const named = transport({ overrides: { 'hs.test': dest() } });
  const ok = await named.client.request({ destination: 'hs.test', method: 'GET', path: '/_matrix/federation/v1/version' });
  named.close();
  assert.equal(ok.ok, true);
});

test('it should map HTTP errors to status and errcode', async () => {
  const t = transport();
  const forbidden = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/forbidden' });
  const busy = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/busy' });
  const missing = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/nothing' });
  const unsigned = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/whoami', signed: false });
  t.close();
  assert.deepEqual(forbidden, { ok: false, kind: 'http', status: 403, errcode: 'M_FORBIDDEN', error: 'no' });
  assert.deepEqual(busy, { ok: false, kind: 'http', status: 429, errcode: 'M_LIMIT_EXCEEDED', error: 'slow down', retryAfterMs: 1500 });
  assert.equal(missing.ok === false && missing.errcode, 'M_UNRECOGNIZED');
  assert.deepEqual(unsigned.ok === false && [unsigned.status, unsigned.errcode], [401, 'M_UNAUTHORIZED']);
});

test('it should time out a request that gets no answer', async () => {
  const t = transport({ timeoutMs: 200 });
  const res = await t.client.request({ destination: dest(), method: 'GET', path: '/_matrix/federation/v1/hang' });
  t.close();
  assert.equal(res.ok === false && res.kind, 'timeout');
});

test('it should report unreachable servers as network failures', async () => {
  const t = transport();
  const res = await t.client.request({ destination: '127.0.0.1:1', method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  assert.equal(res.ok === false && res.kind, 'network');
});

test('it should try the next SRV target when the first one refuses the connection', async () => {
  // A port nothing listens on: bind one, then close it.
  const closed = await new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  const srvAnswers: Record<string, Array<{ name: string; port: number; priority: number; weight: number }>> = {
    '_matrix-fed._tcp.hs.test': [
      { name: 'backup.hs.test', port: srv.port, priority: 20, weight: 1 },
      { name: 'primary.hs.test', port: closed, priority: 10, weight: 1 },
    ],
    '_matrix-fed._tcp.down.test': [
      { name: 'a.down.test', port: closed, priority: 10, weight: 1 },
      { name: 'b.down.test', port: closed, priority: 20, weight: 1 },
    ],
  };
  const connects: string[] = [];
  const t = transport({
    lookup: { lookup: async (host) => (connects.push(host), [{ address: '127.0.0.1', family: 4 }]) },
    srv: { resolveSrv: async (name) => srvAnswers[name] ?? [] },
  });
  const res = await t.client.request({ destination: 'hs.test', method: 'GET', path: '/_matrix/federation/v1/version' });
  const down = await t.client.request({ destination: 'down.test', method: 'GET', path: '/_matrix/federation/v1/version' });
  t.close();
  assert.deepEqual(res, { ok: true, status: 200, body: { server: { name: 'Parley', version: '1.2.3' } } });
  // .well-known first (hs.test:443, refused), then the SRV targets in priority order.
  assert.deepEqual(connects.filter((h) => h !== 'hs.test' && h !== 'down.test'), ['primary.hs.test', 'backup.hs.test', 'a.down.test', 'b.down.test']);
  assert.equal(down.ok === false && down.kind, 'network');
});

test('it should not try another SRV target once one was reached and answered with an error', async () => {
  const srvAnswers = {
    '_matrix-fed._tcp.hs.test': [
      { name: 'primary.hs.test', port: srv.port, priority: 10, weight: 1 },
      { name: 'backup.hs.test', port: srv.port, priority: 20, weight: 1 },
    ],
  } as Record<string, Array<{ name: string; port: number; priority: number; weight: number }>>;
  const connects: string[] = [];
  const t = transport({
    lookup: { lookup: async (host) => (connects.push(host), [{ address: '127.0.0.1', family: 4 }]) },
    srv: { resolveSrv: async (name) => srvAnswers[name] ?? [] },
  });
  const res = await t.client.request({ destination: 'hs.test', method: 'GET', path: '/_matrix/federation/v1/forbidden' });
  t.close();
  assert.equal(res.ok === false && res.status, 403);
  assert.deepEqual(connects.filter((h) => h.endsWith('.hs.test')), ['primary.hs.test']);
});
