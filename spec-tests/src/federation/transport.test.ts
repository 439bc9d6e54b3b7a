// Two real Parley processes talking server-server over HTTPS on loopback with a test CA:
// keys are fetched across servers through the configured CA and loopback allowance.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { rawRequest } from '../harness/http.js';

const fed = useFederatedServers(2);
let hr: FederatedServer;
let legal: FederatedServer;

before(async () => {
  [hr, legal] = await fed.ready();
});

test('it should fetch another server’s signing keys over HTTPS and serve them as a notary', async () => {
  const own = await rawRequest(hr, 'GET', '/_matrix/key/v2/server');
  assert.equal(own.status, 200);
  assert.equal(own.json.server_name, hr.serverName);
  // legal asks hr over HTTPS (trusting the test CA, loopback allowed by config).
  const res = await rawRequest(legal, 'GET', `/_matrix/key/v2/query/${encodeURIComponent(hr.serverName)}`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.server_keys.length, 1);
  const doc = res.json.server_keys[0];
  assert.deepEqual(doc.verify_keys, own.json.verify_keys);
  assert.ok(doc.signatures[hr.serverName], 'signed by hr itself');
  assert.ok(doc.signatures[legal.serverName], 'countersigned by the notary');
});
