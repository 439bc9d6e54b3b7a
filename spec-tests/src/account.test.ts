// Accounts: registration, login, logout, passwords, devices, profiles, deactivation.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { serverForTest, useServer } from './harness/hooks.js';
import {
  enc,
  expectError,
  expectOk,
  login,
  loginRaw,
  rawRequest,
  registerUser,
  type HasBaseUrl,
  type User,
} from './harness/http.js';
import { uniq } from './harness/util.js';

async function whoami(server: HasBaseUrl, token: string) {
  return rawRequest(server, 'GET', '/_matrix/client/v3/account/whoami', { token });
}

/** Runs a UIA-protected request: expects a 401 challenge offering m.login.password, then completes it. */
async function withPasswordUia(
  server: HasBaseUrl,
  user: User,
  method: string,
  path: string,
  body: Record<string, unknown>,
  password = user.password,
) {
  const first = await rawRequest(server, method, path, { token: user.accessToken, body });
  assert.equal(first.status, 401, `${method} ${path} without auth must answer a 401 UIA challenge, got HTTP ${first.status} ${first.text}`);
  assert.equal(typeof first.json?.session, 'string', `UIA challenge lacks session: ${first.text}`);
  assert.ok(Array.isArray(first.json?.flows), `UIA challenge lacks flows: ${first.text}`);
  assert.ok(
    first.json.flows.some((f: { stages?: string[] }) => Array.isArray(f.stages) && f.stages.includes('m.login.password')),
    `UIA flows must offer m.login.password: ${first.text}`,
  );
  return rawRequest(server, method, path, {
    token: user.accessToken,
    body: {
      ...body,
      auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password, session: first.json.session },
    },
  });
}

describe('registration and login', () => {
  const ctx = useServer();

  it('should register with user-interactive auth (dummy stage) and get a working access token', async () => {
    const localpart = uniq('reg');
    const first = await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/register', { body: { username: localpart, password: 'pw-aaa-123-xyz' } });
    expectOk(first, 'register without auth', 401);
    assert.equal(typeof first.json.session, 'string');
    assert.ok(first.json.flows.some((f: { stages: string[] }) => f.stages.length === 1 && f.stages[0] === 'm.login.dummy'), `flows must offer [m.login.dummy]: ${first.text}`);
    // Nothing was created by the challenge alone.
    const avail = await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/register/available?username=${localpart}`);
    expectOk(avail, 'username still available after the UIA challenge');

    const user = await registerUser(ctx.server, localpart);
    assert.equal(user.userId, `@${localpart}:${ctx.server.serverName}`);
    const me = expectOk(await whoami(ctx.server, user.accessToken), 'whoami after register');
    assert.equal(me.user_id, user.userId);
    assert.equal(me.device_id, user.deviceId);
  });

  it('should report a taken username as M_USER_IN_USE on /register/available and /register', async () => {
    const fresh = uniq('free');
    const ok = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/register/available?username=${fresh}`), 'available (free)');
    assert.equal(ok.available, true);
    const user = await registerUser(ctx.server);
    expectError(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/register/available?username=${user.localpart}`), 400, 'M_USER_IN_USE', 'available (taken)');
    const again = await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/register', {
      body: { username: user.localpart, password: 'another-password-1', auth: { type: 'm.login.dummy' } },
    });
    // Either the UIA challenge comes first (401) or the name check does; it must not succeed.
    if (again.status === 401) {
      const second = await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/register', {
        body: { username: user.localpart, password: 'another-password-1', auth: { type: 'm.login.dummy', session: again.json.session } },
      });
      expectError(second, 400, 'M_USER_IN_USE', 're-register taken name');
    } else {
      expectError(again, 400, 'M_USER_IN_USE', 're-register taken name');
    }
    // The original password still works: the account was not overwritten.
    expectOk(await loginRaw(ctx.server, user.userId, user.password), 'login with original password');
  });

  it('should log in with m.login.password and an m.id.user identifier', async () => {
    const flows = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/login'), 'GET /login');
    assert.ok(flows.flows.some((f: { type: string }) => f.type === 'm.login.password'), `GET /login must list m.login.password: ${JSON.stringify(flows)}`);

    const user = await registerUser(ctx.server);
    const byLocalpart = expectOk(await loginRaw(ctx.server, user.localpart, user.password), 'login by localpart');
    assert.equal(byLocalpart.user_id, user.userId);
    assert.equal(typeof byLocalpart.access_token, 'string');
    assert.equal(typeof byLocalpart.device_id, 'string');
    assert.notEqual(byLocalpart.device_id, user.deviceId, 'a new login gets a new device');
    const me = expectOk(await whoami(ctx.server, byLocalpart.access_token), 'whoami with login token');
    assert.equal(me.user_id, user.userId);
    assert.equal(me.device_id, byLocalpart.device_id);

    const byMxid = expectOk(await loginRaw(ctx.server, user.userId, user.password, 'MYDEVICE'), 'login by full user ID with device_id');
    assert.equal(byMxid.device_id, 'MYDEVICE', 'the requested device_id must be used');

    expectError(await loginRaw(ctx.server, user.userId, 'wrong-password'), 403, 'M_FORBIDDEN', 'login with wrong password');
    expectError(await loginRaw(ctx.server, uniq('nobody'), 'whatever-pass'), 403, 'M_FORBIDDEN', 'login as unknown user');
  });

  it('should answer whoami for the token owner and reject missing or unknown tokens', async () => {
    const user = await registerUser(ctx.server);
    const me = expectOk(await whoami(ctx.server, user.accessToken), 'whoami');
    assert.deepEqual({ user_id: me.user_id, device_id: me.device_id }, { user_id: user.userId, device_id: user.deviceId });
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/account/whoami'), 401, 'M_MISSING_TOKEN', 'whoami without token');
    expectError(await whoami(ctx.server, 'not-a-real-token'), 401, 'M_UNKNOWN_TOKEN', 'whoami with bogus token');
  });

  it('should invalidate only the used token on logout', async () => {
    const user = await registerUser(ctx.server);
    const other = await login(ctx.server, user);
    expectOk(await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/logout', { token: user.accessToken, body: {} }), 'logout');
    expectError(await whoami(ctx.server, user.accessToken), 401, 'M_UNKNOWN_TOKEN', 'whoami with logged-out token');
    expectOk(await whoami(ctx.server, other.accessToken), 'the other device is still logged in');
    const devices = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/devices', { token: other.accessToken }), 'devices');
    assert.ok(!devices.devices.some((d: { device_id: string }) => d.device_id === user.deviceId), 'logout must delete the device');
  });

  it('should invalidate every token of the user on logout/all', async () => {
    const user = await registerUser(ctx.server);
    const second = await login(ctx.server, user);
    const bystander = await registerUser(ctx.server);
    expectOk(await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/logout/all', { token: second.accessToken, body: {} }), 'logout/all');
    expectError(await whoami(ctx.server, user.accessToken), 401, 'M_UNKNOWN_TOKEN', 'first device after logout/all');
    expectError(await whoami(ctx.server, second.accessToken), 401, 'M_UNKNOWN_TOKEN', 'second device after logout/all');
    expectOk(await whoami(ctx.server, bystander.accessToken), 'another user is unaffected');
    expectOk(await loginRaw(ctx.server, user.userId, user.password), 'can log in again');
  });

  it('should change the password so the old one stops working and other devices are logged out', async () => {
    const user = await registerUser(ctx.server);
    const other = await login(ctx.server, user);
    const newPassword = 'brand-new-Passw0rd!';
    const res = await withPasswordUia(ctx.server, user, 'POST', '/_matrix/client/v3/account/password', { new_password: newPassword });
    expectOk(res, 'change password');
    expectError(await loginRaw(ctx.server, user.userId, user.password), 403, 'M_FORBIDDEN', 'login with the old password');
    expectOk(await loginRaw(ctx.server, user.userId, newPassword), 'login with the new password');
    expectOk(await whoami(ctx.server, user.accessToken), 'the requesting device stays logged in');
    expectError(await whoami(ctx.server, other.accessToken), 401, 'M_UNKNOWN_TOKEN', 'other devices are logged out (logout_devices defaults to true)');
  });

  it('should refuse a password change when the UIA password is wrong', async () => {
    const user = await registerUser(ctx.server);
    const res = await withPasswordUia(ctx.server, user, 'POST', '/_matrix/client/v3/account/password', { new_password: 'never-applied-1' }, 'wrong-password');
    assert.equal(res.status, 401, `wrong UIA password must answer 401, got HTTP ${res.status} ${res.text}`);
    assert.equal(res.json?.errcode, 'M_FORBIDDEN', `wrong UIA password must carry errcode M_FORBIDDEN: ${res.text}`);
    expectOk(await loginRaw(ctx.server, user.userId, user.password), 'old password still works');
    expectError(await loginRaw(ctx.server, user.userId, 'never-applied-1'), 403, 'M_FORBIDDEN', 'new password was not applied');
  });
});

describe('devices', () => {
  const ctx = useServer();

  it('should list, get, rename and delete (with UIA password) devices', async () => {
    const user = await registerUser(ctx.server, uniq('dev'), { displayName: 'First phone' });
    const second = await login(ctx.server, user, 'SECONDDEV');
    const list = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/devices', { token: user.accessToken }), 'GET /devices');
    const ids = list.devices.map((d: { device_id: string }) => d.device_id).sort();
    assert.deepEqual(ids, [user.deviceId, 'SECONDDEV'].sort());
    const first = list.devices.find((d: { device_id: string }) => d.device_id === user.deviceId);
    assert.equal(first.display_name, 'First phone', 'initial_device_display_name must become the display name');

    const one = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/devices/${enc('SECONDDEV')}`, { token: user.accessToken }), 'GET /devices/{id}');
    assert.equal(one.device_id, 'SECONDDEV');

    expectOk(await rawRequest(ctx.server, 'PUT', '/_matrix/client/v3/devices/SECONDDEV', { token: user.accessToken, body: { display_name: 'Laptop' } }), 'rename device');
    const renamed = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/devices/SECONDDEV', { token: user.accessToken }), 'GET renamed');
    assert.equal(renamed.display_name, 'Laptop');

    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/devices/NOSUCHDEVICE', { token: user.accessToken }), 404, 'M_NOT_FOUND', 'GET unknown device');

    // Wrong password: the device survives.
    const wrong = await withPasswordUia(ctx.server, user, 'DELETE', '/_matrix/client/v3/devices/SECONDDEV', {}, 'wrong-password');
    assert.equal(wrong.status, 401, `delete with wrong password: ${wrong.text}`);
    assert.equal(wrong.json?.errcode, 'M_FORBIDDEN', `delete with wrong password must carry M_FORBIDDEN: ${wrong.text}`);
    expectOk(await whoami(ctx.server, second.accessToken), 'device survives failed delete');

    expectOk(await withPasswordUia(ctx.server, user, 'DELETE', '/_matrix/client/v3/devices/SECONDDEV', {}), 'delete device');
    expectError(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/devices/SECONDDEV', { token: user.accessToken }), 404, 'M_NOT_FOUND', 'deleted device is gone');
    expectError(await whoami(ctx.server, second.accessToken), 401, 'M_UNKNOWN_TOKEN', "deleted device's token");
    const after = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/devices', { token: user.accessToken }), 'GET /devices after delete');
    assert.deepEqual(after.devices.map((d: { device_id: string }) => d.device_id), [user.deviceId]);
  });

  it("should not let one user see or rename another user's device", async () => {
    const alice = await registerUser(ctx.server);
    const bob = await registerUser(ctx.server);
    expectError(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/devices/${enc(alice.deviceId)}`, { token: bob.accessToken }), 404, 'M_NOT_FOUND', "bob GETs alice's device");
    const put = await rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/devices/${enc(alice.deviceId)}`, { token: bob.accessToken, body: { display_name: 'pwned' } });
    expectError(put, 404, 'M_NOT_FOUND', "bob renames alice's device");
    const mine = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/devices/${enc(alice.deviceId)}`, { token: alice.accessToken }), "alice's device");
    assert.notEqual(mine.display_name, 'pwned');
  });
});

describe('profiles and deactivation', () => {
  const ctx = useServer();

  it('should store displayname and avatar_url and show them to other users', async () => {
    const alice = await registerUser(ctx.server);
    const bob = await registerUser(ctx.server);
    const p = `/_matrix/client/v3/profile/${enc(alice.userId)}`;
    expectOk(await rawRequest(ctx.server, 'PUT', `${p}/displayname`, { token: alice.accessToken, body: { displayname: 'Alice Liddell' } }), 'set displayname');
    expectOk(await rawRequest(ctx.server, 'PUT', `${p}/avatar_url`, { token: alice.accessToken, body: { avatar_url: 'mxc://example.org/abcDEF123' } }), 'set avatar_url');
    const dn = expectOk(await rawRequest(ctx.server, 'GET', `${p}/displayname`, { token: bob.accessToken }), 'get displayname');
    assert.equal(dn.displayname, 'Alice Liddell');
    const av = expectOk(await rawRequest(ctx.server, 'GET', `${p}/avatar_url`, { token: bob.accessToken }), 'get avatar_url');
    assert.equal(av.avatar_url, 'mxc://example.org/abcDEF123');
    const full = expectOk(await rawRequest(ctx.server, 'GET', p, { token: bob.accessToken }), 'get full profile');
    assert.equal(full.displayname, 'Alice Liddell');
    assert.equal(full.avatar_url, 'mxc://example.org/abcDEF123');

    const forbidden = await rawRequest(ctx.server, 'PUT', `${p}/displayname`, { token: bob.accessToken, body: { displayname: 'Mallory' } });
    expectError(forbidden, 403, 'M_FORBIDDEN', "bob sets alice's displayname");
    const still = expectOk(await rawRequest(ctx.server, 'GET', `${p}/displayname`), 'displayname unchanged');
    assert.equal(still.displayname, 'Alice Liddell');

    expectError(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/profile/${enc(`@${uniq('ghost')}:${ctx.server.serverName}`)}`, { token: bob.accessToken }), 404, 'M_NOT_FOUND', 'profile of unknown user');
  });

  it('should deactivate an account so it can no longer log in or be re-registered', async () => {
    const user = await registerUser(ctx.server);
    const other = await login(ctx.server, user);
    const res = await withPasswordUia(ctx.server, user, 'POST', '/_matrix/client/v3/account/deactivate', {});
    const body = expectOk(res, 'deactivate');
    assert.ok(body.id_server_unbind_result === 'success' || body.id_server_unbind_result === 'no-support', `id_server_unbind_result must be success|no-support: ${res.text}`);
    expectError(await whoami(ctx.server, user.accessToken), 401, 'M_UNKNOWN_TOKEN', 'token after deactivation');
    expectError(await whoami(ctx.server, other.accessToken), 401, 'M_UNKNOWN_TOKEN', 'other device after deactivation');
    expectError(await loginRaw(ctx.server, user.userId, user.password), 403, ['M_USER_DEACTIVATED', 'M_FORBIDDEN'], 'login after deactivation');
    expectError(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/register/available?username=${user.localpart}`), 400, 'M_USER_IN_USE', 'deactivated name stays taken');
  });
});

describe('shared-secret registration (Synapse admin API)', () => {
  function mac(secret: string, nonce: string, user: string, password: string, admin: boolean): string {
    return createHmac('sha1', secret)
      .update(nonce).update('\0').update(user).update('\0').update(password).update('\0').update(admin ? 'admin' : 'notadmin')
      .digest('hex');
  }

  it('should register users with a nonce and HMAC-SHA1 of the shared secret, and reject bad MACs and reused nonces', async (t) => {
    const secret = 'spec-test-shared-secret-' + uniq();
    const server = await serverForTest(t, { registrationSharedSecret: secret });
    const path = '/_synapse/admin/v1/register';

    const n1 = expectOk(await rawRequest(server, 'GET', path), 'GET nonce');
    assert.equal(typeof n1.nonce, 'string');
    const username = uniq('bot');
    const password = 'bot-password-123';
    const res = await rawRequest(server, 'POST', path, {
      body: { nonce: n1.nonce, username, password, admin: false, mac: mac(secret, n1.nonce, username, password, false) },
    });
    const reg = expectOk(res, 'POST shared-secret register');
    assert.equal(reg.user_id, `@${username}:${server.serverName}`);
    assert.equal(typeof reg.access_token, 'string');
    expectOk(await whoami(server, reg.access_token), 'token from shared-secret registration works');
    expectOk(await loginRaw(server, reg.user_id, password), 'password login for shared-secret user');

    // Reusing a nonce fails.
    const reuseName = uniq('bot');
    const reuse = await rawRequest(server, 'POST', path, {
      body: { nonce: n1.nonce, username: reuseName, password, admin: false, mac: mac(secret, n1.nonce, reuseName, password, false) },
    });
    assert.ok(reuse.status >= 400 && reuse.status < 500, `reused nonce must be rejected, got HTTP ${reuse.status} ${reuse.text}`);

    // A MAC computed with the wrong secret, or claiming admin with a notadmin MAC, fails.
    const n2 = expectOk(await rawRequest(server, 'GET', path), 'GET nonce 2');
    const badName = uniq('bot');
    const bad = await rawRequest(server, 'POST', path, {
      body: { nonce: n2.nonce, username: badName, password, admin: true, mac: mac(secret, n2.nonce, badName, password, false) },
    });
    expectError(bad, 403, 'M_FORBIDDEN', 'wrong MAC');
    const n3 = expectOk(await rawRequest(server, 'GET', path), 'GET nonce 3');
    const bad2 = await rawRequest(server, 'POST', path, {
      body: { nonce: n3.nonce, username: badName, password, admin: false, mac: mac('not-the-secret', n3.nonce, badName, password, false) },
    });
    expectError(bad2, 403, 'M_FORBIDDEN', 'MAC with wrong secret');
    expectOk(await rawRequest(server, 'GET', `/_matrix/client/v3/register/available?username=${badName}`), 'rejected user was not created');

    // An admin registration with the right MAC works.
    const n4 = expectOk(await rawRequest(server, 'GET', path), 'GET nonce 4');
    const adminName = uniq('admin');
    const adm = await rawRequest(server, 'POST', path, {
      body: { nonce: n4.nonce, username: adminName, password, admin: true, mac: mac(secret, n4.nonce, adminName, password, true) },
    });
    assert.equal(expectOk(adm, 'admin shared-secret register').user_id, `@${adminName}:${server.serverName}`);
  });
});
