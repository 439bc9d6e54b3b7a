// The accounts endpoints through the real HTTP stack (createApp), for what a
// client sees: status codes, errcodes and UIA bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { expectError } from '../../testing/expect.js';
import { serveTestApp, type Call } from '../../testing/http.js';
import { openTestDatabase } from '../../testing/storage.js';
import { createAccountsModule } from '../../users/accountsModule.js';
import { noopAccountPorts } from '../../users/ports.js';

const SERVER = 'example.test';
const C = '/_matrix/client/v3';

async function withServer(registration: { open: boolean; shared_secret?: string }, fn: (call: Call) => Promise<void>) {
  const { db, close } = await openTestDatabase({ prefix: 'parley-accounts-http-' });
  const logger = pino({ level: 'silent' });
  const m = createAccountsModule(db, { serverName: SERVER, registration, scryptCost: { N: 1024, r: 8, p: 1 } }, noopAccountPorts(), logger);
  const http = await serveTestApp(m.routes, m.accounts, { logger });
  try {
    await fn(http.call);
  } finally {
    await http.close();
    await close();
  }
}

/** Registration through the dummy UIA stage. */
async function register(call: Call, username: string, password = 'pw-' + username, extra: Record<string, unknown> = {}) {
  const first = await call('POST', `${C}/register`, { body: { username, password, ...extra } });
  assert.equal(first.status, 401, JSON.stringify(first.json));
  const done = await call('POST', `${C}/register`, { body: { username, password, ...extra, auth: { type: 'm.login.dummy', session: first.json.session } } });
  assert.equal(done.status, 200, JSON.stringify(done.json));
  return done.json as { user_id: string; access_token: string; device_id: string };
}

const passwordAuth = (user: string, password: string, session: string) => ({
  type: 'm.login.password',
  identifier: { type: 'm.id.user', user },
  password,
  session,
});

test('it should refuse registration with 403 M_FORBIDDEN when it is closed, before any UIA', async () => {
  await withServer({ open: false }, async (call) => {
    expectError(await call('POST', `${C}/register`, { body: { username: 'alice', password: 'pw' } }), 403, 'M_FORBIDDEN');
    expectError(await call('GET', `${C}/register/available?username=alice`), 403, 'M_FORBIDDEN');
  });
});

test('it should refuse guest registration with 403 M_GUEST_ACCESS_FORBIDDEN', async () => {
  await withServer({ open: true }, async (call) => {
    expectError(await call('POST', `${C}/register?kind=guest`, { body: {} }), 403, 'M_GUEST_ACCESS_FORBIDDEN');
  });
});

test('it should report taken and malformed user names before the UIA challenge', async () => {
  await withServer({ open: true }, async (call) => {
    await register(call, 'alice');
    expectError(await call('POST', `${C}/register`, { body: { username: 'alice', password: 'x' } }), 400, 'M_USER_IN_USE');
    expectError(await call('POST', `${C}/register`, { body: { username: 'ALICE', password: 'x' } }), 400, 'M_USER_IN_USE');
    expectError(await call('GET', `${C}/register/available?username=alice`), 400, 'M_USER_IN_USE');
    expectError(await call('POST', `${C}/register`, { body: { username: 'not valid!', password: 'x' } }), 400, 'M_INVALID_USERNAME');
    expectError(await call('GET', `${C}/register/available?username=${encodeURIComponent('a:b')}`), 400, 'M_INVALID_USERNAME');
    const free = await call('GET', `${C}/register/available?username=bob`);
    assert.deepEqual([free.status, free.json], [200, { available: true }]);
  });
});

test('it should register without logging in when inhibit_login is set, and generate a name when none is given', async () => {
  await withServer({ open: true }, async (call) => {
    const first = await call('POST', `${C}/register`, { body: {} });
    assert.equal(first.status, 401);
    const res = await call('POST', `${C}/register`, { body: { password: 'pw', inhibit_login: true, auth: { type: 'm.login.dummy', session: first.json.session } } });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.match(res.json.user_id, /^@[0-9]+:example\.test$/);
    assert.equal(res.json.access_token, undefined);
    assert.equal(res.json.device_id, undefined);
    const login = await call('POST', `${C}/login`, { body: { type: 'm.login.password', user: res.json.user_id, password: 'pw' } });
    assert.equal(login.status, 200, 'the legacy user field works');
  });
});

test('it should answer a wrong password with 403 M_FORBIDDEN and an unknown login type with 400', async () => {
  await withServer({ open: true }, async (call) => {
    await register(call, 'carol', 'right');
    const login = (password: string) =>
      call('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'carol' }, password } });
    expectError(await login('wrong'), 403, 'M_FORBIDDEN');
    assert.equal((await login('right')).status, 200);
    expectError(await call('POST', `${C}/login`, { body: { type: 'm.login.token', token: 'x' } }), 400, 'M_UNKNOWN');
    const wrongType = await call('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 42 }, password: 'right' } });
    expectError(wrongType, 400, 'M_BAD_JSON');
    assert.match(wrongType.json.error, /identifier\.user/);
    const flows = await call('GET', `${C}/login`);
    assert.deepEqual(flows.json, { flows: [{ type: 'm.login.password' }] });
  });
});

test('it should answer a missing token with M_MISSING_TOKEN and an unknown one with M_UNKNOWN_TOKEN', async () => {
  await withServer({ open: true }, async (call) => {
    const me = await register(call, 'dave');
    expectError(await call('GET', `${C}/account/whoami`), 401, 'M_MISSING_TOKEN');
    expectError(await call('GET', `${C}/account/whoami`, { token: 'pat_nonsense' }), 401, 'M_UNKNOWN_TOKEN');
    const who = await call('GET', `${C}/account/whoami`, { token: me.access_token });
    assert.deepEqual(who.json, { user_id: '@dave:example.test', device_id: me.device_id, is_guest: false });
    assert.equal((await call('POST', `${C}/logout`, { token: me.access_token, body: {} })).status, 200);
    expectError(await call('GET', `${C}/account/whoami`, { token: me.access_token }), 401, 'M_UNKNOWN_TOKEN');
  });
});

test('it should delete a device only after the password UIA stage', async () => {
  await withServer({ open: true }, async (call) => {
    const me = await register(call, 'erin', 'pw-erin', { device_id: 'MAIN' });
    const other = await call('POST', `${C}/login`, {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'erin' }, password: 'pw-erin', device_id: 'OTHER' },
    });
    const path = `${C}/devices/OTHER`;
    const challenge = await call('DELETE', path, { token: me.access_token });
    assert.equal(challenge.status, 401);
    assert.deepEqual(challenge.json.flows, [{ stages: ['m.login.password'] }]);
    assert.equal(challenge.json.errcode, undefined);

    const wrong = await call('DELETE', path, { token: me.access_token, body: { auth: passwordAuth('erin', 'nope', challenge.json.session) } });
    expectError(wrong, 401, 'M_FORBIDDEN');
    assert.equal(wrong.json.session, challenge.json.session);
    assert.equal((await call('GET', `${C}/account/whoami`, { token: other.json.access_token })).status, 200, 'still logged in');

    const ok = await call('DELETE', path, { token: me.access_token, body: { auth: passwordAuth('@erin:example.test', 'pw-erin', challenge.json.session) } });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    expectError(await call('GET', `${C}/account/whoami`, { token: other.json.access_token }), 401, 'M_UNKNOWN_TOKEN');
    expectError(await call('GET', path, { token: me.access_token }), 404, 'M_NOT_FOUND');
    const list = await call('GET', `${C}/devices`, { token: me.access_token });
    assert.deepEqual(list.json.devices.map((d: { device_id: string }) => d.device_id), ['MAIN']);

    // The completed session does not authorise deleting another device.
    const reuse = await call('DELETE', `${C}/devices/MAIN`, { token: me.access_token, body: { auth: { session: challenge.json.session } } });
    expectError(reuse, 403, 'M_FORBIDDEN');
  });
});

test('it should change the password and deactivate only with the right password', async () => {
  await withServer({ open: true }, async (call) => {
    const me = await register(call, 'gina', 'old');
    const first = await call('POST', `${C}/account/password`, { token: me.access_token, body: { new_password: 'new' } });
    assert.equal(first.status, 401);
    const wrong = await call('POST', `${C}/account/password`, { token: me.access_token, body: { new_password: 'new', auth: passwordAuth('gina', 'bad', first.json.session) } });
    expectError(wrong, 401, 'M_FORBIDDEN');
    const ok = await call('POST', `${C}/account/password`, { token: me.access_token, body: { new_password: 'new', auth: passwordAuth('gina', 'old', first.json.session) } });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));

    const d1 = await call('POST', `${C}/account/deactivate`, { token: me.access_token, body: {} });
    assert.equal(d1.status, 401);
    const d2 = await call('POST', `${C}/account/deactivate`, { token: me.access_token, body: { auth: passwordAuth('gina', 'new', d1.json.session) } });
    assert.deepEqual([d2.status, d2.json], [200, { id_server_unbind_result: 'success' }]);
    expectError(await call('GET', `${C}/account/whoami`, { token: me.access_token }), 401, 'M_UNKNOWN_TOKEN');
    const login = await call('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'gina' }, password: 'new' } });
    expectError(login, 403, 'M_USER_DEACTIVATED');
  });
});

test("it should refuse setting someone else's profile and 404 unknown users", async () => {
  await withServer({ open: true }, async (call) => {
    const alice = await register(call, 'alice');
    const bob = await register(call, 'bob');
    const p = `${C}/profile/${encodeURIComponent(alice.user_id)}`;
    expectError(await call('PUT', `${p}/displayname`, { token: bob.access_token, body: { displayname: 'Mallory' } }), 403, 'M_FORBIDDEN');
    expectError(await call('PUT', `${p}/avatar_url`, { token: bob.access_token, body: { avatar_url: 'mxc://x/y' } }), 403, 'M_FORBIDDEN');
    assert.equal((await call('PUT', `${p}/displayname`, { token: alice.access_token, body: { displayname: 'Alice' } })).status, 200);
    expectError(await call('PUT', `${p}/displayname`, { token: alice.access_token, body: {} }), 400, 'M_MISSING_PARAM');
    expectError(await call('PUT', `${p}/displayname`, { token: alice.access_token, body: { displayname: 7 } }), 400, 'M_INVALID_PARAM');
    assert.deepEqual((await call('GET', p)).json, { displayname: 'Alice' });
    assert.deepEqual((await call('GET', `${p}/displayname`)).json, { displayname: 'Alice' });
    expectError(await call('GET', `${p}/avatar_url`), 404, 'M_NOT_FOUND');
    expectError(await call('GET', `${C}/profile/${encodeURIComponent('@ghost:example.test')}`), 404, 'M_NOT_FOUND');
    expectError(await call('GET', `${C}/profile/not-a-user-id`), 400, 'M_INVALID_PARAM');
    // A slash is allowed in localparts; clients percent-encode it in the path.
    const slashed = await register(call, 'team/ops');
    const sp = `${C}/profile/${encodeURIComponent(slashed.user_id)}`;
    assert.equal((await call('PUT', `${sp}/displayname`, { token: slashed.access_token, body: { displayname: 'Ops' } })).status, 200);
    assert.deepEqual((await call('GET', `${sp}/displayname`)).json, { displayname: 'Ops' });
  });
});

test('it should register through the shared secret, even with registration closed, and refuse bad MACs and reused nonces', async () => {
  const secret = 'very-secret';
  const mac = (nonce: string, user: string, pw: string, admin: boolean) =>
    createHmac('sha1', secret).update(`${nonce}\0${user}\0${pw}\0${admin ? 'admin' : 'notadmin'}`).digest('hex');
  await withServer({ open: false, shared_secret: secret }, async (call) => {
    const path = '/_synapse/admin/v1/register';
    const n1 = (await call('GET', path)).json.nonce as string;
    const ok = await call('POST', path, { body: { nonce: n1, username: 'bot', password: 'pw', admin: true, mac: mac(n1, 'bot', 'pw', true) } });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.user_id, '@bot:example.test');
    assert.equal((await call('GET', `${C}/account/whoami`, { token: ok.json.access_token })).status, 200);

    const reuse = await call('POST', path, { body: { nonce: n1, username: 'bot2', password: 'pw', mac: mac(n1, 'bot2', 'pw', false) } });
    assert.equal(reuse.status, 400);

    const n2 = (await call('GET', path)).json.nonce as string;
    const claimedAdmin = await call('POST', path, { body: { nonce: n2, username: 'bot3', password: 'pw', admin: true, mac: mac(n2, 'bot3', 'pw', false) } });
    expectError(claimedAdmin, 403, 'M_FORBIDDEN');
    // The nonce was spent by the failed attempt too.
    const retry = await call('POST', path, { body: { nonce: n2, username: 'bot3', password: 'pw', admin: false, mac: mac(n2, 'bot3', 'pw', false) } });
    assert.equal(retry.status, 400);
    const login = await call('POST', `${C}/login`, { body: { type: 'm.login.password', user: 'bot3', password: 'pw' } });
    expectError(login, 403, 'M_FORBIDDEN');
  });
});

test('it should refuse shared-secret registration when no secret is configured', async () => {
  await withServer({ open: true }, async (call) => {
    assert.equal((await call('GET', '/_synapse/admin/v1/register')).status, 400);
    const res = await call('POST', '/_synapse/admin/v1/register', { body: { nonce: 'x', username: 'u', password: 'p', mac: 'm' } });
    assert.equal(res.status, 400);
  });
});
