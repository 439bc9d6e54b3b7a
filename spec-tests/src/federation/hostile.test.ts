// Hostile input at the HTTP level against a real Parley process: unsigned, wrongly
// signed and malformed X-Matrix requests are 401 M_UNAUTHORIZED, a transaction of 51
// PDUs is 400, and the server keeps serving throughout.
// Spec: server-server-api.md "Request Authentication", "Transactions".
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import { signRequest } from '@parley/federation/transport/xMatrix';
import { startFakeOrigin, useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { rawRequest } from '../harness/http.js';

const fed = useFederatedServers(2);
let hr: FederatedServer;
let legal: FederatedServer;

before(async () => {
  [hr, legal] = await fed.ready();
});

const txn = { origin: '', origin_server_ts: 1, pdus: [] as unknown[] };

test('it should refuse unsigned, wrongly signed and malformed federation requests with 401 M_UNAUTHORIZED and keep serving', async () => {
  const uri = '/_matrix/federation/v1/send/hostile1';
  const body = { ...txn, origin: legal.serverName };
  // Claims to come from legal (a real server whose keys hr can fetch) but signed with a key legal never published.
  const forged = signRequest({ method: 'PUT', uri, origin: legal.serverName, destination: hr.serverName, content: body as never }, generateSigningKey());
  const cases: Array<[string, Record<string, string>]> = [
    ['unsigned', {}],
    ['wrongly signed', { Authorization: forged }],
    ['malformed header', { Authorization: 'X-Matrix origin=' }],
    ['other scheme', { Authorization: 'Bearer abc' }],
  ];
  for (const [what, headers] of cases) {
    const res = await rawRequest(hr, 'PUT', uri, { body, headers });
    assert.equal(res.status, 401, `${what}: ${res.status} ${res.text}`);
    assert.equal(res.json.errcode, 'M_UNAUTHORIZED', what);
  }
  assert.equal((await rawRequest(hr, 'GET', '/_matrix/federation/v1/version')).status, 200, 'still serving');
});

test('it should refuse a correctly signed transaction of 51 PDUs with 400 and accept one of 0', async () => {
  const origin = await startFakeOrigin(fed.tls);
  try {
    const send = (txnId: string, pdus: unknown[]) => {
      const uri = `/_matrix/federation/v1/send/${txnId}`;
      const body = { origin: origin.serverName, origin_server_ts: Date.now(), pdus };
      return rawRequest(hr, 'PUT', uri, { body, headers: { Authorization: origin.sign('PUT', uri, hr.serverName, body) } });
    };
    const big = await send('t51', Array.from({ length: 51 }, (_, i) => ({ type: 'm.room.message', n: i })));
    assert.equal(big.status, 400, big.text);
    const empty = await send('t0', []);
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.json.pdus, {});
  } finally {
    await origin.close();
  }
});
