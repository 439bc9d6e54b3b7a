// Black-box checks of issue-5 config switches that were only tested in-process, each on a
// server started with its own config file: token-authenticated registration
// (registration.requires_token), presence turned off, the legacy unauthenticated media
// switch (and its freeze of media uploaded while it is off), allow_access_token_in_query
// false, and a URL preview of an allowed loopback page.
// Spec: client-server-api/_index.md "Token-authenticated registration", registration_tokens.yaml;
// modules/presence.md; content_repo.md (deprecated /_matrix/media/v3 download, preview_url);
// _index.md "Using access tokens". Synapse admin API: registration_tokens.md.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { registerAdmin, type AdminUser } from './harness/admin.js';
import { writeConfigFile } from './harness/configFile.js';
import { serverForTest, useServer } from './harness/hooks.js';
import {
  createRoom,
  enc,
  expectError,
  expectOk,
  joinRoom,
  loginRaw,
  rawRequest,
  registerUser,
  sync,
  type User,
} from './harness/http.js';
import { startLoopbackServer, type LoopbackServer } from './harness/loopbackHttp.js';
import { uniq } from './harness/util.js';

const V1 = '/_matrix/client/v1';
const V3 = '/_matrix/client/v3';
const REGISTER = `${V3}/register`;
const VALIDITY = `${V1}/register/m.login.registration_token/validity`;

describe('registration with registration.requires_token', () => {
  const SECRET = 'spec-token-secret-' + uniq();
  const cfg = writeConfigFile({ registration: { requires_token: true } });
  after(() => cfg.remove());
  const ctx = useServer({ registrationSharedSecret: SECRET, extraArgs: cfg.args });
  let admin: AdminUser;

  before(async () => {
    admin = await registerAdmin(ctx.server, SECRET);
  });

  it('should register once with a single-use token, then refuse it, and refuse registration without a token', async () => {
    const made = expectOk(
      await rawRequest(ctx.server, 'POST', '/_synapse/admin/v1/registration_tokens/new', { token: admin.token, body: { uses_allowed: 1 } }),
      'admin creates a token',
    );
    assert.equal(typeof made.token, 'string');
    assert.equal(made.uses_allowed, 1);
    assert.equal(made.completed, 0);
    const token: string = made.token;

    assert.deepEqual(expectOk(await rawRequest(ctx.server, 'GET', `${VALIDITY}?token=${enc(token)}`), 'validity'), { valid: true });
    assert.deepEqual(expectOk(await rawRequest(ctx.server, 'GET', `${VALIDITY}?token=${enc('no-such-' + uniq())}`), 'validity of unknown'), { valid: false });

    // Without a token: the only flow offered is the token stage, and the dummy stage does not pass.
    const nobody = uniq('nobody');
    const pw = 'pw-' + uniq() + '-Horse-9';
    const challenge = await rawRequest(ctx.server, 'POST', REGISTER, { body: { username: nobody, password: pw } });
    assert.equal(challenge.status, 401, `register without auth: ${challenge.text}`);
    assert.deepEqual(challenge.json.flows, [{ stages: ['m.login.registration_token'] }]);
    const dummy = await rawRequest(ctx.server, 'POST', REGISTER, {
      body: { username: nobody, password: pw, auth: { type: 'm.login.dummy', session: challenge.json.session } },
    });
    assert.equal(dummy.status, 401, `register with m.login.dummy instead of a token must be refused: ${dummy.text}`);
    assert.equal(typeof dummy.json.errcode, 'string', 'a failed stage answers with an errcode');
    const bad = await rawRequest(ctx.server, 'POST', REGISTER, {
      body: { username: nobody, password: pw, auth: { type: 'm.login.registration_token', token: 'wrong-' + uniq(), session: challenge.json.session } },
    });
    expectError(bad, 401, 'M_UNAUTHORIZED', 'register with an unknown token');
    expectError(await loginRaw(ctx.server, nobody, pw), 403, 'M_FORBIDDEN', 'no account was created without a token');

    // With the token.
    const first = uniq('first');
    const s1 = await rawRequest(ctx.server, 'POST', REGISTER, { body: { username: first, password: pw } });
    assert.equal(s1.status, 401);
    const done = expectOk(
      await rawRequest(ctx.server, 'POST', REGISTER, {
        body: { username: first, password: pw, auth: { type: 'm.login.registration_token', token, session: s1.json.session } },
      }),
      'register with the token',
    );
    assert.equal(done.user_id, `@${first}:${ctx.server.serverName}`);
    const who = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/account/whoami`, { token: done.access_token }), 'whoami of the new account');
    assert.equal(who.user_id, done.user_id);

    // Used up.
    assert.deepEqual(expectOk(await rawRequest(ctx.server, 'GET', `${VALIDITY}?token=${enc(token)}`), 'validity after use'), { valid: false });
    const info = expectOk(await rawRequest(ctx.server, 'GET', `/_synapse/admin/v1/registration_tokens/${enc(token)}`, { token: admin.token }), 'token info');
    assert.equal(info.completed, 1);
    const second = uniq('second');
    const s2 = await rawRequest(ctx.server, 'POST', REGISTER, { body: { username: second, password: pw } });
    assert.equal(s2.status, 401);
    expectError(
      await rawRequest(ctx.server, 'POST', REGISTER, {
        body: { username: second, password: pw, auth: { type: 'm.login.registration_token', token, session: s2.json.session } },
      }),
      401,
      'M_UNAUTHORIZED',
      'second registration with the used-up token',
    );
    expectError(await loginRaw(ctx.server, second, pw), 403, 'M_FORBIDDEN', 'the refused registration created no account');
  });
});

describe('presence turned off (presence.enabled: false)', () => {
  const cfg = writeConfigFile({ presence: { enabled: false } });
  after(() => cfg.remove());
  const ctx = useServer({ extraArgs: cfg.args });

  it('should answer offline from /presence and send no presence in /sync', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const room = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    await joinRoom(ctx.server, bob, room);
    const put = await rawRequest(ctx.server, 'PUT', `${V3}/presence/${enc(bob.userId)}/status`, {
      token: bob.accessToken,
      body: { presence: 'online', status_msg: 'here' },
    });
    assert.equal(put.status, 200, `PUT presence with presence off is accepted and ignored: ${put.text}`);
    // set_presence=online on bob's sync would make him online if presence were on.
    await sync(ctx.server, bob, { set_presence: 'online', timeout: 0 });
    const got = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/presence/${enc(bob.userId)}/status`, { token: alice.accessToken }), 'GET presence');
    assert.equal(got.presence, 'offline');
    if (got.currently_active !== undefined) assert.equal(got.currently_active, false, 'nobody is currently active with presence off');
    assert.equal(got.status_msg, undefined, 'the status message was not stored');
    const initial = await sync(ctx.server, alice, { timeout: 0 });
    assert.deepEqual(initial.presence?.events ?? [], [], 'no presence events in an initial sync');
    const since = initial.next_batch;
    await rawRequest(ctx.server, 'PUT', `${V3}/presence/${enc(bob.userId)}/status`, { token: bob.accessToken, body: { presence: 'unavailable' } });
    const later = await sync(ctx.server, alice, { since, timeout: 500 });
    assert.deepEqual(later.presence?.events ?? [], [], 'no presence events in an incremental sync');
  });
});

/** An unauthenticated GET of the deprecated download endpoint. */
async function legacyDownload(server: { baseUrl: string }, mxc: string): Promise<{ status: number; bytes: Buffer; errcode?: string }> {
  const res = await fetch(`${server.baseUrl}/_matrix/media/v3/download/${mxc.slice('mxc://'.length)}`, { signal: AbortSignal.timeout(30_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let errcode: string | undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) errcode = JSON.parse(bytes.toString('utf8')).errcode;
  return { status: res.status, bytes, errcode };
}

async function uploadText(server: { baseUrl: string }, user: User, text: string): Promise<string> {
  const res = await rawRequest(server, 'POST', '/_matrix/media/v3/upload', { token: user.accessToken, rawBody: Buffer.from(text), headers: { 'Content-Type': 'text/plain' } });
  return expectOk(res, 'upload').content_uri;
}

describe('legacy unauthenticated media (media.legacy_unauthenticated)', () => {
  it('should refuse unauthenticated downloads by default and still serve authenticated ones', async (t) => {
    const server = await serverForTest(t);
    const alice = await registerUser(server, uniq('alice'));
    const text = 'default ' + uniq();
    const mxc = await uploadText(server, alice, text);
    const legacy = await legacyDownload(server, mxc);
    assert.equal(legacy.status, 404, `legacy download with the switch off: ${legacy.bytes.toString()}`);
    assert.equal(legacy.errcode, 'M_NOT_FOUND');
    const authed = await fetch(`${server.baseUrl}/_matrix/client/v1/media/download/${mxc.slice(6)}`, {
      headers: { Authorization: `Bearer ${alice.accessToken}` },
    });
    assert.equal(authed.status, 200);
    assert.equal(Buffer.from(await authed.arrayBuffer()).toString(), text);
  });

  it('should serve unauthenticated downloads when on, and keep serving media uploaded then after it is turned off', async (t) => {
    const cfg = writeConfigFile({ media: { legacy_unauthenticated: true } });
    t.after(() => cfg.remove());
    const server = await serverForTest(t, { extraArgs: cfg.args });
    const alice = await registerUser(server, uniq('alice'));
    const before = 'uploaded while on ' + uniq();
    const onMxc = await uploadText(server, alice, before);
    const on = await legacyDownload(server, onMxc);
    assert.equal(on.status, 200, `legacy download with the switch on: ${on.bytes.toString()}`);
    assert.equal(on.bytes.toString(), before);

    // Turn the switch off (same data): new media is not served unauthenticated; the old is frozen as it was.
    await server.stop();
    writeFileSync(cfg.path, JSON.stringify({ media: { legacy_unauthenticated: false } }));
    await server.restart();
    const offMxc = await uploadText(server, alice, 'uploaded while off ' + uniq());
    const off = await legacyDownload(server, offMxc);
    assert.equal(off.status, 404, `legacy download of media uploaded while off: ${off.bytes.toString()}`);
    assert.equal(off.errcode, 'M_NOT_FOUND');
    const frozen = await legacyDownload(server, onMxc);
    assert.equal(frozen.status, 200, 'media uploaded while the switch was on stays available unauthenticated');
    assert.equal(frozen.bytes.toString(), before);
  });
});

describe('allow_access_token_in_query: false', () => {
  const cfg = writeConfigFile({ allow_access_token_in_query: false });
  after(() => cfg.remove());
  const ctx = useServer({ extraArgs: cfg.args });

  it('should refuse ?access_token= with 401 M_MISSING_TOKEN and still accept the header', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    expectError(
      await rawRequest(ctx.server, 'GET', `${V3}/account/whoami?access_token=${enc(alice.accessToken)}`),
      401,
      'M_MISSING_TOKEN',
      'whoami with a query token when query tokens are off',
    );
    const who = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/account/whoami`, { token: alice.accessToken }), 'whoami with the header');
    assert.equal(who.user_id, alice.userId);
  });
});

describe('URL preview of an allowed loopback page', () => {
  const cfg = writeConfigFile({ media: { url_preview_enabled: true, url_preview_ip_range_whitelist: ['127.0.0.1/32'] } });
  after(() => cfg.remove());
  const ctx = useServer({ extraArgs: cfg.args });
  let site: LoopbackServer;

  before(async () => {
    site = await startLoopbackServer((req) =>
      req.url === '/article'
        ? {
            headers: { 'Content-Type': 'text/html; charset=utf-8' },
            body: `<!doctype html><html><head><title>ignored title</title>
              <meta property="og:title" content="Parley &amp; friends">
              <meta property="og:description" content="A page worth previewing">
              <meta property="og:type" content="article"></head><body><p>Hello</p></body></html>`,
          }
        : { status: 404, headers: { 'Content-Type': 'text/plain' }, body: 'not here' },
    );
  });
  after(async () => {
    await site?.close();
  });

  it('should answer with the page’s OpenGraph title and description', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const url = `${site.baseUrl}/article`;
    const og = expectOk(
      await rawRequest(ctx.server, 'GET', `${V1}/media/preview_url?url=${enc(url)}`, { token: alice.accessToken }),
      'preview of an allowed loopback page',
    );
    assert.equal(og['og:title'], 'Parley & friends');
    assert.equal(og['og:description'], 'A page worth previewing');
    assert.ok(site.received.some((r) => r.url === '/article'), 'the server fetched the page');
    expectError(
      await rawRequest(ctx.server, 'GET', `${V1}/media/preview_url?url=${enc(url)}`),
      401,
      'M_MISSING_TOKEN',
      'preview without a token',
    );
  });
});
