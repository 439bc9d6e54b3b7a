// Server notices through the real server (startHomeserver → createApp) over a real database:
// what an admin sending notices and the user receiving them see.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createUserCommand } from '../admin/cliAdmin.js';
import { configSchema } from '../config/config.js';
import { startHomeserver } from '../main.js';
import { expectError, expectOk as ok } from '../testing/expect.js';
import { httpCaller, type Call } from '../testing/http.js';
import { freePort } from '../testing/freePort.js';

const C = '/_matrix/client/v3';
const SEND = '/_synapse/admin/v1/send_server_notice';
const enc = encodeURIComponent;


interface Ctx {
  call: Call;
  admin: string;
  serverName: string;
  register(localpart: string): Promise<{ userId: string; token: string }>;
}

async function withServer(serverNotices: Record<string, unknown> | undefined, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'parley-notices-'));
  const serverName = `127.0.0.1:${port}`;
  const config = configSchema.parse({
    server_name: serverName,
    data_dir: dir,
    listeners: [{ bind: `127.0.0.1:${port}` }],
    registration: { open: true },
    rate_limit: { enabled: false },
    federation: { enabled: false },
    log: { level: 'silent' },
    ...(serverNotices ? { server_notices: serverNotices } : {}),
  });
  await createUserCommand(config, 'root', 'root-password', true);
  const server = await startHomeserver(config, pino({ level: 'silent' }));
  const call = httpCaller(`http://127.0.0.1:${port}`);
  try {
    const admin = ok(
      await call('POST', `${C}/login`, { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'root' }, password: 'root-password' } }),
    ).access_token as string;
    await fn({
      call,
      admin,
      serverName,
      async register(localpart) {
        const r = ok(await call('POST', `${C}/register`, { body: { username: localpart, password: `${localpart}-pw-123`, auth: { type: 'm.login.dummy' } } }));
        return { userId: r.user_id, token: r.access_token };
      },
    });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const NOTICES = { system_mxid_localpart: 'notices', system_mxid_display_name: 'Server Notices Bot', room_name: 'Notices from the admins' };

test('it should put notices in one tagged room the user is invited to, as m.server_notice messages from the system user', async () => {
  await withServer(NOTICES, async ({ call, admin, serverName, register }) => {
    const alice = await register('alice');
    const system = `@notices:${serverName}`;
    const first = ok(await call('POST', SEND, { token: admin, body: { user_id: alice.userId, content: { body: 'Maintenance tonight' } } }));
    assert.match(first.event_id, /^\$/);
    const second = ok(
      await call('POST', SEND, { token: admin, body: { user_id: alice.userId, content: { msgtype: 'm.text', body: 'Maintenance done' } } }),
    );

    // Invited, not joined: the invite comes from the system user, with the configured room name.
    const s1 = ok(await call('GET', `${C}/sync`, { token: alice.token }));
    const invites = Object.entries(s1.rooms?.invite ?? {}) as [string, { invite_state: { events: Array<Record<string, any>> } }][];
    assert.equal(invites.length, 1, 'exactly one notices room for two notices');
    const [roomId, invited] = invites[0];
    const stripped = invited.invite_state.events;
    assert.equal(stripped.find((e) => e.type === 'm.room.name')?.content.name, 'Notices from the admins');
    const myInvite = stripped.find((e) => e.type === 'm.room.member' && e.state_key === alice.userId);
    assert.equal(myInvite?.sender, system);
    assert.deepEqual(s1.rooms?.join ?? {}, {});

    // The invite cannot be rejected (server_notices.md "Client behaviour").
    expectError(await call('POST', `${C}/rooms/${enc(roomId)}/leave`, { token: alice.token, body: {} }), 403, 'M_CANNOT_LEAVE_SERVER_NOTICE_ROOM');

    ok(await call('POST', `${C}/join/${enc(roomId)}`, { token: alice.token, body: {} }));
    const s2 = ok(await call('GET', `${C}/sync`, { token: alice.token }));
    const joined = s2.rooms.join[roomId];
    const notices = joined.timeline.events.filter((e: Record<string, any>) => e.type === 'm.room.message');
    assert.deepEqual(
      notices.map((e: Record<string, any>) => [e.event_id, e.sender, e.content.msgtype, e.content.body]),
      [
        [first.event_id, system, 'm.server_notice', 'Maintenance tonight'],
        [second.event_id, system, 'm.text', 'Maintenance done'],
      ],
    );
    const tag = joined.account_data.events.find((e: Record<string, any>) => e.type === 'm.tag');
    assert.deepEqual(tag?.content.tags, { 'm.server_notice': {} });
    const profile = ok(await call('GET', `${C}/profile/${enc(system)}`, { token: alice.token }));
    assert.equal(profile.displayname, 'Server Notices Bot');

    // The user reads but cannot write there (Synapse's users_default -10).
    expectError(await call('PUT', `${C}/rooms/${enc(roomId)}/send/m.room.message/t1`, { token: alice.token, body: { msgtype: 'm.text', body: 'hi' } }), 403, 'M_FORBIDDEN');

    // Once joined, leaving is allowed; the next notice comes in a new room, again tagged.
    ok(await call('POST', `${C}/rooms/${enc(roomId)}/leave`, { token: alice.token, body: {} }));
    ok(await call('POST', SEND, { token: admin, body: { user_id: alice.userId, content: { body: 'Welcome back' } } }));
    const s3 = ok(await call('GET', `${C}/sync`, { token: alice.token }));
    const newRooms = Object.keys(s3.rooms?.invite ?? {});
    assert.equal(newRooms.length, 1);
    assert.notEqual(newRooms[0], roomId);
    const tags = ok(await call('GET', `${C}/user/${enc(alice.userId)}/rooms/${enc(newRooms[0])}/tags`, { token: alice.token }));
    assert.deepEqual(tags, { tags: { 'm.server_notice': {} } });
  });
});

test('it should send a notice only once for a retried PUT transaction', async () => {
  await withServer(NOTICES, async ({ call, admin, register }) => {
    const bob = await register('bob');
    const body = { user_id: bob.userId, content: { body: 'Once' } };
    const a = ok(await call('PUT', `${SEND}/txn-1`, { token: admin, body }));
    const b = ok(await call('PUT', `${SEND}/txn-1`, { token: admin, body }));
    assert.equal(a.event_id, b.event_id);
    const c = ok(await call('PUT', `${SEND}/txn-2`, { token: admin, body }));
    assert.notEqual(c.event_id, a.event_id);
  });
});

test('it should refuse notices from non-admins, to unknown or remote users, and with a malformed body', async () => {
  await withServer(NOTICES, async ({ call, admin, serverName, register }) => {
    const carol = await register('carol');
    expectError(await call('POST', SEND, { token: carol.token, body: { user_id: carol.userId, content: { body: 'x' } } }), 403, 'M_FORBIDDEN');
    expectError(await call('POST', SEND, { token: admin, body: { user_id: `@ghost:${serverName}`, content: { body: 'x' } } }), 404, 'M_NOT_FOUND');
    expectError(await call('POST', SEND, { token: admin, body: { user_id: '@someone:elsewhere.example', content: { body: 'x' } } }), 400, 'M_UNKNOWN');
    expectError(await call('POST', SEND, { token: admin, body: { user_id: carol.userId, content: 'x' } }), 400, 'M_BAD_JSON');
    expectError(await call('POST', SEND, { token: admin, body: { content: { body: 'x' } } }), 400, 'M_BAD_JSON');
    // Nothing reached Carol.
    const s = ok(await call('GET', `${C}/sync`, { token: carol.token }));
    assert.deepEqual(s.rooms?.invite ?? {}, {});
    // The system user exists from the start, so nobody can take its name.
    expectError(
      await call('POST', `${C}/register`, { body: { username: 'notices', password: 'notices-pw-123', auth: { type: 'm.login.dummy' } } }),
      400,
      'M_USER_IN_USE',
    );
  });
});

test('it should refuse to send notices when the server has no server_notices config', async () => {
  await withServer(undefined, async ({ call, admin, register }) => {
    const dave = await register('dave');
    expectError(await call('POST', SEND, { token: admin, body: { user_id: dave.userId, content: { body: 'x' } } }), 400, 'M_UNKNOWN');
    // And rejecting ordinary invites is unaffected.
    const eve = await register('eve');
    const room = ok(await call('POST', `${C}/createRoom`, { token: eve.token, body: { invite: [dave.userId] } })).room_id;
    ok(await call('POST', `${C}/rooms/${enc(room)}/leave`, { token: dave.token, body: {} }));
  });
});

test('it should refuse a server_notices config without a valid system localpart', () => {
  assert.equal(configSchema.safeParse({ server_notices: { room_name: 'Notices' } }).success, false);
  assert.equal(configSchema.safeParse({ server_notices: { system_mxid_localpart: 'Has Spaces' } }).success, false);
  const ok = configSchema.parse({ server_notices: { system_mxid_localpart: 'notices' } });
  assert.equal(ok.server_notices?.room_name, 'Server Notices');
  assert.equal(configSchema.parse({}).server_notices, undefined);
});
