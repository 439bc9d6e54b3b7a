// The admin API through the real server (startHomeserver → createApp) over a real database:
// what an admin tool and the affected users see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema, type Config } from '../config/config.js';
import { startHomeserver } from '../main.js';
import { createUserCommand, DatabaseLockedError, setAdminCommand } from './cliAdmin.js';
import { expectError, expectOk as ok } from '../testing/expect.js';
import { httpCaller, type Call } from '../testing/http.js';
import { freePort } from '../testing/freePort.js';

const C = '/_matrix/client/v3';
const A = '/_synapse/admin';
const enc = encodeURIComponent;


interface Ctx {
  config: Config;
  call: Call;
  register(localpart: string, password?: string): Promise<{ userId: string; token: string }>;
  login(localpart: string, password?: string): Promise<string>;
  uid(localpart: string): string;
}

async function withServer(fn: (c: Ctx) => Promise<void>, opts: { requiresToken?: boolean; beforeStart?: (config: Config) => Promise<void> } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-admin-'));
  const config = configSchema.parse({
    server_name: `127.0.0.1:${port}`,
    data_dir: dir,
    listeners: [{ bind: `127.0.0.1:${port}` }],
    registration: { open: true, requires_token: opts.requiresToken ?? false },
    rate_limit: { enabled: false },
    federation: { enabled: false },
    log: { level: 'silent' },
  });
  // The first admin, made the way an operator bootstraps one: on the stopped server's data.
  await createUserCommand(config, 'root', 'root-password', true);
  await opts.beforeStart?.(config);
  const server = await startHomeserver(config, pino({ level: 'silent' }));
  const base = `http://127.0.0.1:${port}`;
  const call = httpCaller(base, { 'user-agent': 'admin-test/1.0' });
  const login = async (localpart: string, password = `${localpart}-password`) =>
    ok(await call('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: localpart }, password } }))
      .access_token as string;
  const ctx: Ctx = {
    config,
    call,
    login,
    uid: (l) => `@${l}:127.0.0.1:${port}`,
    async register(localpart, password = `${localpart}-password`) {
      const r = ok(await call('POST', `${C}/register`, { body: { username: localpart, password, auth: { type: 'm.login.dummy' } } }));
      return { userId: r.user_id, token: r.access_token };
    },
  };
  try {
    await fn(ctx);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('it should let an admin list users while a normal user gets 403 M_FORBIDDEN', async () => {
  await withServer(async ({ call, register, login, uid }) => {
    const admin = await login('root', 'root-password');
    const bob = await register('bob');
    await register('carol');
    const list = ok(await call('GET', `${A}/v2/users?limit=2`, { token: admin }));
    assert.deepEqual(list.users.map((u: any) => u.name), [uid('bob'), uid('carol')]);
    assert.equal(list.total, 3);
    assert.equal(list.next_token, '2');
    assert.equal(list.users[0].admin, false);
    const named = ok(await call('GET', `${A}/v2/users?name=CAR`, { token: admin }));
    assert.deepEqual(named.users.map((u: any) => u.name), [uid('carol')]);
    for (const path of [`${A}/v2/users`, `${A}/v1/server_version`, `${A}/v1/rooms`, `${A}/v1/registration_tokens`]) {
      expectError(await call('GET', path, { token: bob.token }), 403, 'M_FORBIDDEN');
    }
    expectError(await call('GET', `${A}/v2/users`), 401, 'M_MISSING_TOKEN');
    assert.match(ok(await call('GET', `${A}/v1/server_version`, { token: admin })).server_version, /^Parley /);
  });
});

test('it should create, modify, query and deactivate a user through the admin API', async () => {
  await withServer(async ({ call, login, uid }) => {
    const admin = await login('root', 'root-password');
    const created = ok(await call('PUT', `${A}/v2/users/${enc(uid('dave'))}`, { token: admin, body: { password: 'dave-password', displayname: 'Dave' } }), 201);
    assert.equal(created.name, uid('dave'));
    assert.equal(created.displayname, 'Dave');
    const dave = await login('dave');
    ok(await call('GET', `${C}/account/whoami`, { token: dave }));
    // Modify: display name and admin flag; the new admin may call the admin API at once.
    const modified = ok(await call('PUT', `${A}/v2/users/${enc(uid('dave'))}`, { token: admin, body: { displayname: 'David', admin: true } }));
    assert.equal(modified.displayname, 'David');
    assert.equal(modified.admin, true);
    ok(await call('GET', `${A}/v2/users`, { token: dave }));
    assert.deepEqual(ok(await call('GET', `${A}/v1/users/${enc(uid('dave'))}/admin`, { token: admin })), { admin: true });
    ok(await call('PUT', `${A}/v1/users/${enc(uid('dave'))}/admin`, { token: admin, body: { admin: false } }));
    expectError(await call('GET', `${A}/v2/users`, { token: dave }), 403, 'M_FORBIDDEN');
    expectError(await call('PUT', `${A}/v1/users/${enc(uid('root'))}/admin`, { token: admin, body: { admin: false } }), 400, 'M_INVALID_PARAM');
    // Deactivate: the token stops working, login is refused, the list hides the user by default.
    assert.deepEqual(ok(await call('POST', `${A}/v1/deactivate/${enc(uid('dave'))}`, { token: admin, body: { erase: true } })), {
      id_server_unbind_result: 'success',
    });
    expectError(await call('GET', `${C}/account/whoami`, { token: dave }), 401, 'M_UNKNOWN_TOKEN');
    const q = ok(await call('GET', `${A}/v2/users/${enc(uid('dave'))}`, { token: admin }));
    assert.equal(q.deactivated, true);
    assert.equal(q.erased, true);
    assert.equal(q.displayname, null);
    assert.ok(!ok(await call('GET', `${A}/v2/users`, { token: admin })).users.some((u: any) => u.name === uid('dave')));
    assert.ok(ok(await call('GET', `${A}/v2/users?deactivated=true`, { token: admin })).users.some((u: any) => u.name === uid('dave')));
    expectError(await call('GET', `${A}/v2/users/${enc(uid('nobody'))}`, { token: admin }), 404, 'M_NOT_FOUND');
  });
});

test('it should reset a password, logging the user out, and report whois sessions', async () => {
  await withServer(async ({ call, register, login, uid }) => {
    const admin = await login('root', 'root-password');
    const erin = await register('erin');
    ok(await call('GET', `${C}/account/whoami`, { token: erin.token }));
    const whois = ok(await call('GET', `${A}/v1/whois/${enc(uid('erin'))}`, { token: admin }));
    assert.equal(whois.user_id, uid('erin'));
    const [device] = Object.values(whois.devices) as any[];
    const [conn] = device.sessions[0].connections;
    assert.equal(conn.ip, '127.0.0.1');
    assert.equal(conn.user_agent, 'admin-test/1.0');
    assert.equal(typeof conn.last_seen, 'number');
    // The spec's whois: the user may ask about themselves, not about others.
    ok(await call('GET', `${C}/admin/whois/${enc(uid('erin'))}`, { token: erin.token }));
    expectError(await call('GET', `${C}/admin/whois/${enc(uid('root'))}`, { token: erin.token }), 403, 'M_FORBIDDEN');

    ok(await call('POST', `${A}/v1/reset_password/${enc(uid('erin'))}`, { token: admin, body: { new_password: 'fresh-password' } }));
    expectError(await call('GET', `${C}/account/whoami`, { token: erin.token }), 401, 'M_UNKNOWN_TOKEN');
    await login('erin', 'fresh-password');
    expectError(
      await call('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'erin' }, password: 'erin-password' } }),
      403,
      'M_FORBIDDEN',
    );
  });
});

async function createRoom(call: Ctx['call'], token: string, body: Record<string, unknown> = {}): Promise<string> {
  return ok(await call('POST', `${C}/createRoom`, { token, body })).room_id;
}
async function send(call: Ctx['call'], token: string, roomId: string, body: string): Promise<string> {
  return ok(await call('PUT', `${C}/rooms/${enc(roomId)}/send/m.room.message/${Math.random()}`, { token, body: { msgtype: 'm.text', body } })).event_id;
}

test('it should list rooms with details, members and state, and delete a room so that it disappears for its members', async () => {
  await withServer(async ({ call, register, login, uid }) => {
    const admin = await login('root', 'root-password');
    const fay = await register('fay');
    const gus = await register('gus');
    const roomId = await createRoom(call, fay.token, { preset: 'public_chat', name: 'Doomed', room_alias_name: 'doomed' });
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: gus.token, body: {} }));
    const msg = await send(call, gus.token, roomId, 'hello');
    const other = await createRoom(call, fay.token, { name: 'Kept' });

    const list = ok(await call('GET', `${A}/v1/rooms?search_term=doom`, { token: admin }));
    assert.equal(list.total_rooms, 1);
    assert.equal(list.rooms[0].room_id, roomId);
    assert.equal(list.rooms[0].joined_members, 2);
    assert.equal(ok(await call('GET', `${A}/v1/rooms`, { token: admin })).total_rooms, 2);
    const details = ok(await call('GET', `${A}/v1/rooms/${enc(roomId)}`, { token: admin }));
    assert.equal(details.name, 'Doomed');
    assert.equal(details.creator, uid('fay'));
    assert.equal(details.join_rules, 'public');
    assert.deepEqual(ok(await call('GET', `${A}/v1/rooms/${enc(roomId)}/members`, { token: admin })).members.sort(), [uid('fay'), uid('gus')]);
    const state = ok(await call('GET', `${A}/v1/rooms/${enc(roomId)}/state?type=m.room.name`, { token: admin })).state;
    assert.deepEqual(state.map((e: any) => e.content.name), ['Doomed']);

    const { delete_id } = ok(await call('DELETE', `${A}/v2/rooms/${enc(roomId)}`, { token: admin, body: { block: true } }));
    let status: any;
    for (let i = 0; i < 100; i++) {
      status = ok(await call('GET', `${A}/v2/rooms/delete_status/${delete_id}`, { token: admin }));
      if (status.status === 'complete' || status.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status.status, 'complete', JSON.stringify(status));
    assert.deepEqual(status.shutdown_room.kicked_users.sort(), [uid('fay'), uid('gus')]);
    assert.deepEqual(status.shutdown_room.local_aliases, [`#doomed:${uid('x').split(':').slice(1).join(':')}`]);

    // Gone for its members, its events purged, the room unknown and blocked.
    assert.deepEqual(ok(await call('GET', `${C}/joined_rooms`, { token: gus.token })).joined_rooms, []);
    const synced = ok(await call('GET', `${C}/sync`, { token: fay.token }));
    assert.deepEqual(Object.keys(synced.rooms?.join ?? {}), [other]);
    assert.ok(!(roomId in (synced.rooms?.leave ?? {})));
    expectError(await call('GET', `${C}/rooms/${enc(roomId)}/event/${enc(msg)}`, { token: gus.token }), 404, 'M_NOT_FOUND');
    expectError(await call('GET', `${A}/v1/rooms/${enc(roomId)}`, { token: admin }), 404, 'M_NOT_FOUND');
    expectError(await call('POST', `${C}/join/${enc(roomId)}`, { token: gus.token, body: {} }), 403, 'M_FORBIDDEN');
    assert.equal(ok(await call('GET', `${A}/v1/rooms`, { token: admin })).total_rooms, 1);
  });
});

test("it should redact all of a user's events in the background", async () => {
  await withServer(async ({ call, register, login, uid }) => {
    const admin = await login('root', 'root-password');
    const hal = await register('hal');
    const ivy = await register('ivy');
    const roomId = await createRoom(call, hal.token, { preset: 'public_chat' });
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: ivy.token, body: {} }));
    const spam = [await send(call, ivy.token, roomId, 'spam 1'), await send(call, ivy.token, roomId, 'spam 2')];
    const fine = await send(call, hal.token, roomId, 'fine');
    const { redact_id } = ok(await call('POST', `${A}/v1/user/${enc(uid('ivy'))}/redact`, { token: admin, body: { rooms: [], reason: 'spam' } }));
    let status: any;
    for (let i = 0; i < 100; i++) {
      status = ok(await call('GET', `${A}/v1/user/redact_status/${redact_id}`, { token: admin }));
      if (status.status === 'completed' || status.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(status, { status: 'completed', failed_redactions: {} });
    for (const id of spam) {
      const ev = ok(await call('GET', `${C}/rooms/${enc(roomId)}/event/${enc(id)}`, { token: hal.token }));
      assert.deepEqual(ev.content, {});
    }
    assert.equal(ok(await call('GET', `${C}/rooms/${enc(roomId)}/event/${enc(fine)}`, { token: hal.token })).content.body, 'fine');
  });
});

test("it should serve an erased user's messages redacted to users who join later", async () => {
  await withServer(async ({ call, register, login }) => {
    const jim = await register('jim');
    const kim = await register('kim');
    const roomId = await createRoom(call, jim.token, { preset: 'public_chat', initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'shared' } }] });
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: kim.token, body: {} }));
    const said = await send(call, kim.token, roomId, 'my words');
    // Kim deactivates with erase (UIA with her password).
    const first = await call('POST', `${C}/account/deactivate`, { token: kim.token, body: { erase: true } });
    ok(
      await call('POST', `${C}/account/deactivate`, {
        token: kim.token,
        body: { erase: true, auth: { type: 'm.login.password', session: first.json.session, identifier: { type: 'm.id.user', user: 'kim' }, password: 'kim-password' } },
      }),
    );
    const lee = await register('lee');
    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: lee.token, body: {} }));
    assert.equal(ok(await call('GET', `${C}/rooms/${enc(roomId)}/event/${enc(said)}`, { token: jim.token })).content.body, 'my words');
    assert.deepEqual(ok(await call('GET', `${C}/rooms/${enc(roomId)}/event/${enc(said)}`, { token: lee.token })).content, {});
    void login;
  });
});

test('it should manage registration tokens and count their uses at registration', async () => {
  await withServer(
    async ({ call, login }) => {
      const admin = await login('root', 'root-password');
      const made = ok(await call('POST', `${A}/v1/registration_tokens/new`, { token: admin, body: { token: 'once', uses_allowed: 1 } }));
      assert.deepEqual(made, { token: 'once', uses_allowed: 1, pending: 0, completed: 0, expiry_time: null });
      const random = ok(await call('POST', `${A}/v1/registration_tokens/new`, { token: admin, body: { length: 10 } }));
      assert.match(random.token, /^[A-Za-z0-9._~-]{10}$/);
      expectError(await call('POST', `${A}/v1/registration_tokens/new`, { token: admin, body: { token: 'once' } }), 400, 'M_INVALID_PARAM');
      const V = '/_matrix/client/v1/register/m.login.registration_token/validity';
      assert.deepEqual(ok(await call('GET', `${V}?token=once`)), { valid: true });
      assert.deepEqual(ok(await call('GET', `${V}?token=nope`)), { valid: false });

      // Registration now offers only the token stage.
      const challenge = await call('POST', `${C}/register`, { body: { username: 'max', password: 'max-password' } });
      assert.equal(challenge.status, 401);
      assert.deepEqual(challenge.json.flows, [{ stages: ['m.login.registration_token'] }]);
      const session = challenge.json.session;
      const bad = await call('POST', `${C}/register`, { body: { username: 'max', password: 'max-password', auth: { type: 'm.login.registration_token', token: 'nope', session } } });
      assert.equal(bad.status, 401);
      assert.equal(bad.json.errcode, 'M_UNAUTHORIZED');
      ok(await call('POST', `${C}/register`, { body: { username: 'max', password: 'max-password', auth: { type: 'm.login.registration_token', token: 'once', session } } }));
      assert.deepEqual(ok(await call('GET', `${A}/v1/registration_tokens/once`, { token: admin })), {
        token: 'once', uses_allowed: 1, pending: 0, completed: 1, expiry_time: null,
      });
      // Used up: refused for the next registration, and listed as invalid.
      assert.deepEqual(ok(await call('GET', `${V}?token=once`)), { valid: false });
      const again = await call('POST', `${C}/register`, { body: { username: 'ned', password: 'ned-password', auth: { type: 'm.login.registration_token', token: 'once' } } });
      assert.equal(again.status, 401);
      assert.equal(again.json.errcode, 'M_UNAUTHORIZED');
      assert.deepEqual(ok(await call('GET', `${A}/v1/registration_tokens?valid=false`, { token: admin })).registration_tokens.map((t: any) => t.token), ['once']);
      const updated = ok(await call('PUT', `${A}/v1/registration_tokens/once`, { token: admin, body: { uses_allowed: null } }));
      assert.equal(updated.uses_allowed, null);
      ok(await call('DELETE', `${A}/v1/registration_tokens/once`, { token: admin }));
      expectError(await call('GET', `${A}/v1/registration_tokens/once`, { token: admin }), 404, 'M_NOT_FOUND');
    },
    { requiresToken: true },
  );
});

test('it should list and delete a user\'s media while identical content uploaded by another user survives', async () => {
  await withServer(async ({ call, register, login, uid }) => {
    const admin = await login('root', 'root-password');
    const oz = await register('oz');
    const pat = await register('pat');
    const base = `http://127.0.0.1:${uid('x').split(':').pop()}`;
    const upload = async (token: string) => {
      const res = await fetch(`${base}/_matrix/media/v3/upload?filename=a.txt`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: 'the same bytes',
      });
      return ((await res.json()) as { content_uri: string }).content_uri;
    };
    const ozUri = await upload(oz.token);
    const patUri = await upload(pat.token);
    const listed = ok(await call('GET', `${A}/v1/users/${enc(uid('oz'))}/media`, { token: admin }));
    assert.equal(listed.total, 1);
    assert.equal(listed.media[0].media_id, ozUri.split('/').pop());
    assert.equal(listed.media[0].media_length, 14);
    const del = ok(await call('DELETE', `${A}/v1/users/${enc(uid('oz'))}/media`, { token: admin }));
    assert.deepEqual(del, { deleted_media: [ozUri.split('/').pop()], total: 1 });
    const download = (uri: string) =>
      fetch(`${base}/_matrix/client/v1/media/download/${uri.slice('mxc://'.length)}`, { headers: { authorization: `Bearer ${pat.token}` } });
    assert.equal((await download(ozUri)).status, 404);
    const kept = await download(patUri);
    assert.equal(kept.status, 200);
    assert.equal(await kept.text(), 'the same bytes');
    // The last reference goes: then the bytes go too, and the item is unknown afterwards.
    const [server, id] = patUri.slice('mxc://'.length).split('/');
    ok(await call('DELETE', `${A}/v1/media/${enc(server)}/${id}`, { token: admin }));
    assert.equal((await download(patUri)).status, 404);
    expectError(await call('DELETE', `${A}/v1/media/${enc(server)}/${id}`, { token: admin }), 404, 'M_NOT_FOUND');
  });
});

test('it should grant admin with the CLI on a stopped server, and refuse while the server runs', async () => {
  await withServer(
    async ({ call, login, config, uid }) => {
      const quinn = await login('quinn', 'quinn-password');
      ok(await call('GET', `${A}/v2/users`, { token: quinn }));
      await assert.rejects(setAdminCommand(config, uid('quinn'), false), DatabaseLockedError);
    },
    {
      beforeStart: async (config) => {
        await createUserCommand(config, 'quinn', 'quinn-password', false);
        await setAdminCommand(config, `@quinn:${config.server_name}`, true);
      },
    },
  );
});
