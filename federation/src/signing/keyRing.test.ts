import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { keyRoutes, ownKeyDocument } from '../api/keys.js';
import type { FederationRoute } from '../api/route.js';
import type { JsonObject } from '../core/types.js';
import type { LocalServerIdentity } from '../ports.js';
import type { Clock } from '../transport/clock.js';
import { createFederationTransport, type FederationTransport } from '../transport/createTransport.js';
import type { FederationRequest } from '../transport/federationClient.js';
import { makeTestPki, type TestPki } from '../transport/testCa.js';
import { inProcessRequester, startTestServer, type TestServer } from '../transport/testServer.js';
import { generateSigningKey } from './ed25519Key.js';
import { KeyRing, keyValidityTs } from './keyRing.js';
import { MemoryRemoteKeyStore } from './keyRingMemoryStore.js';
import { signJson } from './signJson.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.now();

function fakeClock(start = T0): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => now, schedule: () => ({ cancel() {} }), advance: (ms) => void (now += ms) };
}
const identity = (serverName: string, version: string, oldVerifyKeys?: LocalServerIdentity['oldVerifyKeys']): LocalServerIdentity => ({
  serverName,
  signingKey: generateSigningKey(version),
  oldVerifyKeys,
});
const us = identity('us.test', 'us1');

/** Routes serving `doc()` as a server's key document. */
const serving = (doc: () => unknown): FederationRoute[] => [
  { method: 'GET', path: '/_matrix/key/v2/server', auth: 'none', spec: 'test', handler: () => ({ body: doc() }) },
];

// ---- over real HTTPS -------------------------------------------------------

let pki: TestPki;
let remoteServer: TestServer;
let transport: FederationTransport;
const remote = identity('', 'r1');
let remoteDoc: () => unknown = () => ({});

before(async () => {
  pki = makeTestPki(['IP:127.0.0.1']);
  // The remote's name is its address, known only after listen: serve through a late-bound doc.
  const routes = serving(() => remoteDoc());
  remoteServer = await startTestServer({ cert: pki.serverCert, key: pki.serverKey }, routes);
  (remote as { serverName: string }).serverName = `127.0.0.1:${remoteServer.port}`;
  transport = createFederationTransport({ identity: us, ca: [pki.caCert], policy: { ipRangeBlocklist: [] } });
});

after(async () => {
  transport.close();
  await remoteServer.close();
  pki.cleanup();
});

test('it should fetch and verify a key document served over HTTPS by our own key routes', async () => {
  const [serverRoute] = keyRoutes({ local: remote, keyRing: { documentsFor: async () => [] } });
  remoteDoc = () => (serverRoute.handler({ params: {}, query: {}, body: undefined }) as { body: unknown }).body;
  const store = new MemoryRemoteKeyStore();
  const ring = new KeyRing({ local: us, store, requester: transport.client });
  const key = await ring.getVerifyKey(remote.serverName, remote.signingKey.keyId, Date.now());
  assert.ok(key);
  assert.equal(key.export({ format: 'der', type: 'spki' }).toString('base64'), remote.signingKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
  const signed = signJson({ hello: 'world' }, remote.serverName, remote.signingKey);
  assert.equal(await ring.verifyJsonSignedBy(signed, remote.serverName, Date.now()), true);
  assert.equal(await ring.verifyJsonSignedBy({ ...signed, hello: 'there' }, remote.serverName, Date.now()), false);
  assert.equal(await ring.getRequestKey(remote.serverName, remote.signingKey.keyId) !== undefined, true);
  // Persisted through the port, with the document kept for notary duty.
  const saved = store.records.get(remote.serverName);
  assert.equal(saved?.keys[remote.signingKey.keyId].key, remote.signingKey.publicKeyBase64);
  assert.equal((saved?.document as JsonObject).server_name, remote.serverName);
});

test('it should reject a document with a bad self-signature or the wrong server name', async () => {
  const bad: (() => unknown)[] = [
    () => ({ ...ownKeyDocument(remote, Date.now()), valid_until_ts: Date.now() + 5 * DAY }), // altered after signing
    () => signJson({ ...unsigned(remote), server_name: 'someone.else' }, remote.serverName, remote.signingKey),
    () => signJson(unsigned(remote), remote.serverName, generateSigningKey(remote.signingKey.keyId.slice(8))), // wrong private key
    () => unsigned(remote),
  ];
  for (const doc of bad) {
    remoteDoc = doc;
    const store = new MemoryRemoteKeyStore();
    const ring = new KeyRing({ local: us, store, requester: transport.client });
    assert.equal(await ring.getVerifyKey(remote.serverName, remote.signingKey.keyId, Date.now()), undefined);
    assert.equal(store.records.size, 0);
  }
  remoteDoc = () => ownKeyDocument(remote, Date.now()); // control: the same path accepts a good document
  const ring = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: transport.client });
  assert.ok(await ring.getVerifyKey(remote.serverName, remote.signingKey.keyId, Date.now()));
});

test('it should require every published key to have signed the document', async () => {
  const second = generateSigningKey('r2');
  const doc = { ...unsigned(remote), verify_keys: { [remote.signingKey.keyId]: { key: remote.signingKey.publicKeyBase64 }, [second.keyId]: { key: second.publicKeyBase64 } } };
  const onlyOne = signJson(doc, remote.serverName, remote.signingKey);
  const ring = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: inProcessRequester({ [remote.serverName]: serving(() => onlyOne) }) });
  assert.equal(await ring.getVerifyKey(remote.serverName, remote.signingKey.keyId, Date.now()), undefined);
  const both = signJson(onlyOne, remote.serverName, second);
  const ring2 = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: inProcessRequester({ [remote.serverName]: serving(() => both) }) });
  assert.ok(await ring2.getVerifyKey(remote.serverName, second.keyId, Date.now()));
});

function unsigned(id: LocalServerIdentity): JsonObject {
  const { signatures: _drop, ...doc } = ownKeyDocument(id, Date.now());
  return doc;
}

// ---- in-process ---------------------------------------------------------------

test('it should honour valid_until_ts, capped at 7 days, and ignore it for room versions 1-4', async () => {
  const clock = fakeClock();
  const short = identity('short.test', 's1');
  const long = identity('long.test', 'l1');
  const log: FederationRequest[] = [];
  const requester = inProcessRequester(
    {
      'short.test': serving(() => ownKeyDocument(short, T0, HOUR)),
      'long.test': serving(() => ownKeyDocument(long, T0, 30 * DAY)),
    },
    log,
  );
  const ring = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester, clock });
  const kid = short.signingKey.keyId;
  assert.ok(await ring.getVerifyKey('short.test', kid, T0 + HOUR / 2));
  assert.equal(await ring.getVerifyKey('short.test', kid, T0 + 2 * HOUR), undefined); // event after validity
  assert.equal(log.length, 1, 'a refetch within a minute is not attempted');
  clock.advance(2 * 60_000);
  assert.equal(await ring.getVerifyKey('short.test', kid, T0 + 2 * HOUR), undefined); // refetched: still only valid for 1 h
  assert.equal(log.length, 2);
  assert.ok(await ring.getVerifyKey('short.test', kid, keyValidityTs({ enforceKeyValidity: false }, T0 + 2 * HOUR)));
  assert.equal(keyValidityTs({ enforceKeyValidity: true }, 123), 123);

  assert.ok(await ring.getVerifyKey('long.test', long.signingKey.keyId, T0 + 6 * DAY));
  assert.equal(await ring.getVerifyKey('long.test', long.signingKey.keyId, T0 + 8 * DAY), undefined);
});

test('it should accept old keys for events before expired_ts but never for requests', async () => {
  const retired = generateSigningKey('old');
  const srv = identity('rot.test', 'new', [{ keyId: retired.keyId, publicKeyBase64: retired.publicKeyBase64, expiredTs: T0 - DAY }]);
  const ring = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: inProcessRequester({ 'rot.test': serving(() => ownKeyDocument(srv, T0)) }), clock: fakeClock() });
  assert.ok(await ring.getVerifyKey('rot.test', retired.keyId, T0 - 2 * DAY));
  assert.equal(await ring.getVerifyKey('rot.test', retired.keyId, T0), undefined);
  assert.equal(await ring.getRequestKey('rot.test', retired.keyId), undefined);
  assert.ok(await ring.getRequestKey('rot.test', srv.signingKey.keyId));
  // Our own keys come from the local identity, without any request.
  assert.equal(await ring.getVerifyKey('us.test', us.signingKey.keyId, T0), us.signingKey.publicKey);
});

test('it should share one fetch between concurrent lookups and answer from the durable store after a restart', async () => {
  const srv = identity('busy.test', 'b1');
  const log: FederationRequest[] = [];
  const store = new MemoryRemoteKeyStore();
  const ring = new KeyRing({ local: us, store, requester: inProcessRequester({ 'busy.test': serving(() => ownKeyDocument(srv, T0)) }, log), clock: fakeClock() });
  const keys = await Promise.all(Array.from({ length: 5 }, () => ring.getVerifyKey('busy.test', srv.signingKey.keyId, T0)));
  assert.ok(keys.every((k) => k !== undefined));
  assert.equal(log.length, 1);
  const offline = inProcessRequester({}, log);
  const restarted = new KeyRing({ local: us, store, requester: offline, clock: fakeClock() });
  assert.ok(await restarted.getVerifyKey('busy.test', srv.signingKey.keyId, T0));
  assert.equal(log.length, 1);
});

test('it should fall back to a notary, batch the servers it asks about, and check its signature', async () => {
  const a = identity('a.test', 'a1');
  const b = identity('b.test', 'b1');
  const notary = identity('notary.test', 'n1');
  // The notary reaches a and b; we reach only the notary.
  const notaryRing = new KeyRing({
    local: notary,
    store: new MemoryRemoteKeyStore(),
    requester: inProcessRequester({ 'a.test': serving(() => ownKeyDocument(a, T0)), 'b.test': serving(() => ownKeyDocument(b, T0)) }),
  });
  const notaryRoutes = keyRoutes({ local: notary, keyRing: notaryRing });
  const log: FederationRequest[] = [];
  const pinned = { serverName: 'notary.test', verifyKeys: { [notary.signingKey.keyId]: notary.signingKey.publicKeyBase64 } };
  const ring = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: inProcessRequester({ 'notary.test': notaryRoutes }, log), notaries: [pinned] });
  const [ka, kb] = await Promise.all([ring.getVerifyKey('a.test', a.signingKey.keyId, Date.now()), ring.getVerifyKey('b.test', b.signingKey.keyId, Date.now())]);
  assert.ok(ka && kb);
  const queries = log.filter((r) => r.path === '/_matrix/key/v2/query');
  assert.equal(queries.length, 1, 'one batched notary query');
  assert.deepEqual(Object.keys((queries[0].body as { server_keys: object }).server_keys).sort(), ['a.test', 'b.test']);

  // A notary whose signature does not match the pinned key is ignored.
  const impostor = { serverName: 'notary.test', verifyKeys: { [notary.signingKey.keyId]: generateSigningKey('x').publicKeyBase64 } };
  const wary = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: inProcessRequester({ 'notary.test': notaryRoutes }), notaries: [impostor] });
  assert.equal(await wary.getVerifyKey('a.test', a.signingKey.keyId, Date.now()), undefined);

  // Without pinned keys the notary's own key is fetched from it directly.
  const trusting = new KeyRing({ local: us, store: new MemoryRemoteKeyStore(), requester: inProcessRequester({ 'notary.test': notaryRoutes }), notaries: [{ serverName: 'notary.test' }] });
  assert.ok(await trusting.getVerifyKey('b.test', b.signingKey.keyId, Date.now()));
});

test('it should serve notary answers countersigned, from cache when the server is down', async () => {
  const a = identity('a.test', 'a1');
  const notary = identity('notary.test', 'n1');
  let up = true;
  const requester = inProcessRequester({ 'a.test': serving(() => ownKeyDocument(a, Date.now())) });
  const ring = new KeyRing({ local: notary, store: new MemoryRemoteKeyStore(), requester: { request: (r) => (up ? requester.request(r) : Promise.resolve({ ok: false, kind: 'network', status: 0, errcode: 'PARLEY_NETWORK', error: 'down' })) }, minRefetchMs: 0 });
  const [, getQuery, postQuery] = keyRoutes({ local: notary, keyRing: ring });
  const first = (await getQuery.handler({ params: { serverName: 'a.test' }, query: {}, body: undefined })).body as { server_keys: JsonObject[] };
  assert.equal(first.server_keys.length, 1);
  const sigs = first.server_keys[0].signatures as Record<string, unknown>;
  assert.deepEqual(Object.keys(sigs).sort(), ['a.test', 'notary.test']);
  up = false;
  // Asking for more validity than the cached document has forces a refetch, which fails.
  const later = { [a.signingKey.keyId]: { minimum_valid_until_ts: Date.now() + 30 * DAY } };
  const cached = (await postQuery.handler({ params: {}, query: {}, body: { server_keys: { 'a.test': later, 'nobody.test': {}, 'notary.test': {} } } })).body as { server_keys: JsonObject[] };
  assert.deepEqual(cached.server_keys.map((d) => d.server_name).sort(), ['a.test', 'notary.test']);
  const bad = await getQuery.handler({ params: { serverName: 'a.test' }, query: { minimum_valid_until_ts: 'soon' }, body: undefined });
  assert.equal(bad.status, 400);
  const badPost = await postQuery.handler({ params: {}, query: {}, body: { server_keys: [] } });
  assert.equal(badPost.status, 400);
});
