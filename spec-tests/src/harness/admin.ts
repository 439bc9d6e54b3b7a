// A server admin made the way deployment tools do it: shared-secret registration with admin: true
// (Synapse's /_synapse/admin/v1/register). The server must run with the same secret.
import { createHmac } from 'node:crypto';
import { expectOk, rawRequest, type HasBaseUrl } from './http.js';
import { uniq } from './util.js';

export interface AdminUser {
  userId: string;
  token: string;
}

export async function registerAdmin(server: HasBaseUrl, sharedSecret: string): Promise<AdminUser> {
  const path = '/_synapse/admin/v1/register';
  const { nonce } = expectOk(await rawRequest(server, 'GET', path), 'GET shared-secret nonce');
  const username = uniq('admin');
  const password = 'admin-password-' + uniq();
  const mac = createHmac('sha1', sharedSecret)
    .update(nonce).update('\0').update(username).update('\0').update(password).update('\0').update('admin')
    .digest('hex');
  const json = expectOk(await rawRequest(server, 'POST', path, { body: { nonce, username, password, admin: true, mac } }), 'shared-secret registration');
  return { userId: json.user_id, token: json.access_token };
}
