// Admin API (Synapse-compatible, /_synapse/admin): only server admins may call it.
// The admin is made the way deployment tools do it: shared-secret registration with admin: true.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import { expectError, expectOk, rawRequest, registerUser, type HasBaseUrl } from './harness/http.js';
import { uniq } from './harness/util.js';

const SECRET = 'spec-admin-secret-' + uniq();

async function registerAdmin(server: HasBaseUrl): Promise<{ userId: string; token: string }> {
  const path = '/_synapse/admin/v1/register';
  const { nonce } = expectOk(await rawRequest(server, 'GET', path), 'GET shared-secret nonce');
  const username = uniq('admin');
  const password = 'admin-password-' + uniq();
  const mac = createHmac('sha1', SECRET).update(nonce).update('\0').update(username).update('\0').update(password).update('\0').update('admin').digest('hex');
  const json = expectOk(await rawRequest(server, 'POST', path, { body: { nonce, username, password, admin: true, mac } }), 'shared-secret registration');
  return { userId: json.user_id, token: json.access_token };
}

describe('admin API', () => {
  const ctx = useServer({ registrationSharedSecret: SECRET });

  it('should let an admin list users while a normal user gets 403 M_FORBIDDEN', async () => {
    const admin = await registerAdmin(ctx.server);
    const normal = await registerUser(ctx.server, uniq('plain'));
    const list = expectOk(await rawRequest(ctx.server, 'GET', '/_synapse/admin/v2/users?limit=100', { token: admin.token }), 'admin lists users');
    assert.ok(Array.isArray(list.users), `users must be an array: ${JSON.stringify(list)}`);
    assert.equal(typeof list.total, 'number');
    const names = list.users.map((u: { name: string }) => u.name);
    assert.ok(names.includes(admin.userId) && names.includes(normal.userId), `both users listed: ${names.join(', ')}`);
    assert.equal(list.users.find((u: { name: string }) => u.name === admin.userId).admin, true);
    expectError(await rawRequest(ctx.server, 'GET', '/_synapse/admin/v2/users', { token: normal.accessToken }), 403, 'M_FORBIDDEN', 'normal user lists users');
    expectError(
      await rawRequest(ctx.server, 'GET', `/_synapse/admin/v2/users/${encodeURIComponent(admin.userId)}`, { token: normal.accessToken }),
      403,
      'M_FORBIDDEN',
      'normal user queries a user',
    );
  });
});
