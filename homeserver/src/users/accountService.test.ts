import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MatrixError } from '../http/errors.js';
import { Database } from '../storage/db.js';
import { createAccountsModule, type AccountsModule } from './accountsModule.js';
import { noopAccountPorts, type AccountPorts } from './ports.js';

const SERVER = 'example.test';
const FAST = { N: 1024, r: 8, p: 1 };

async function withAccounts(
  fn: (m: AccountsModule, ctx: { ports: AccountPorts; dir: string; reopen: () => Promise<AccountsModule> }) => Promise<void>,
  ports: AccountPorts = noopAccountPorts(),
) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-accounts-'));
  let db = await Database.open(dir);
  const make = () => createAccountsModule(db, { serverName: SERVER, registration: { open: true }, scryptCost: FAST }, ports, pino({ level: 'silent' }));
  try {
    await fn(make(), {
      ports,
      dir,
      reopen: async () => {
        await db.close();
        db = await Database.open(dir);
        return make();
      },
    });
  } finally {
    await db.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function rejectsWith(p: Promise<unknown>, errcode: string, status?: number) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof MatrixError, `expected a MatrixError, got ${String(e)}`);
    assert.equal(e.errcode, errcode);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  });
}

test('it should register a user whose token resolves to them and whose profile shows the localpart', async () => {
  await withAccounts(async ({ accounts, profiles }) => {
    const reg = await accounts.register({ localpart: 'alice', password: 'pw-1', login: { displayName: 'Phone' } });
    assert.equal(reg.userId, '@alice:example.test');
    assert.match(reg.accessToken!, /^pat_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(await accounts.authenticate(reg.accessToken!), { userId: reg.userId, deviceId: reg.deviceId, isAdmin: false });
    assert.deepEqual(await profiles.publicProfile(reg.userId), { displayname: 'alice' });
    const admin = await accounts.register({ localpart: 'root', password: 'pw', admin: true, displayname: 'Root', login: {} });
    assert.equal((await accounts.authenticate(admin.accessToken!))?.isAdmin, true);
    assert.deepEqual(await profiles.publicProfile(admin.userId), { displayname: 'Root' });
  });
});

test('it should keep tokens valid across a restart but never store them in clear', async () => {
  await withAccounts(async ({ accounts }, { reopen, dir }) => {
    const reg = await accounts.register({ localpart: 'bob', password: 'pw', login: {} });
    const again = await reopen();
    assert.equal((await again.accounts.authenticate(reg.accessToken!))?.userId, '@bob:example.test');
    assert.equal(await again.accounts.authenticate(reg.accessToken! + 'x'), undefined);
    const { readdirSync, readFileSync } = await import('node:fs');
    const raw = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('');
    assert.ok(!raw.includes(reg.accessToken!.slice(4)), 'the database must not contain the token itself');
  });
});

test('it should refuse a taken or malformed username and register nothing', async () => {
  await withAccounts(async ({ accounts }) => {
    await accounts.register({ localpart: 'carol', password: 'first', login: {} });
    await rejectsWith(accounts.register({ localpart: 'carol', password: 'second' }), 'M_USER_IN_USE', 400);
    for (const bad of ['Carol', 'has space', '_appservice', '12345', '', 'x'.repeat(250)]) {
      await rejectsWith(accounts.register({ localpart: bad, password: 'pw' }), 'M_INVALID_USERNAME', 400);
    }
    // The first account is untouched.
    const s = await accounts.login('carol', 'first', {});
    assert.equal(s.userId, '@carol:example.test');
  });
});

test('it should generate distinct numeric localparts for concurrent registrations without a username', async () => {
  await withAccounts(async ({ accounts }, { reopen }) => {
    const regs = await Promise.all([1, 2, 3, 4].map(() => accounts.register({ password: 'pw' })));
    const ids = regs.map((r) => r.userId);
    assert.equal(new Set(ids).size, 4);
    for (const id of ids) assert.match(id, /^@[0-9]+:example\.test$/);
    const later = await (await reopen()).accounts.register({ password: 'pw' });
    assert.ok(!ids.includes(later.userId), 'numbers are not handed out twice after a restart');
  });
});

test('it should log in by localpart or full user ID and refuse wrong passwords and unknown users alike', async () => {
  await withAccounts(async ({ accounts }) => {
    await accounts.register({ localpart: 'dave', password: 'secret', login: {} });
    assert.equal((await accounts.login('dave', 'secret', {})).userId, '@dave:example.test');
    assert.equal((await accounts.login('@Dave:example.test', 'secret', {})).userId, '@dave:example.test');
    await rejectsWith(accounts.login('dave', 'wrong', {}), 'M_FORBIDDEN', 403);
    await rejectsWith(accounts.login('nobody', 'secret', {}), 'M_FORBIDDEN', 403);
    await rejectsWith(accounts.login('@dave:elsewhere.test', 'secret', {}), 'M_FORBIDDEN', 403);
  });
});

test('it should replace the token of a device when logging in again with its device ID', async () => {
  await withAccounts(async ({ accounts, devices }) => {
    await accounts.register({ localpart: 'erin', password: 'pw', login: { deviceId: 'PHONE', displayName: 'My phone' } });
    const first = await accounts.login('erin', 'pw', { deviceId: 'LAPTOP' });
    const second = await accounts.login('erin', 'pw', { deviceId: 'LAPTOP', displayName: 'ignored for known devices' });
    assert.equal(second.deviceId, 'LAPTOP');
    assert.equal(await accounts.authenticate(first.accessToken), undefined, 'the old token of the device is gone');
    assert.equal((await accounts.authenticate(second.accessToken))?.deviceId, 'LAPTOP');
    const list = await devices.listDevices('@erin:example.test');
    assert.deepEqual(list.map((d) => [d.deviceId, d.displayName]), [['LAPTOP', undefined], ['PHONE', 'My phone']]);
  });
});

test('it should log out one device, or all of them, and forget their tokens', async () => {
  await withAccounts(async ({ accounts, devices }) => {
    const a = await accounts.login((await accounts.register({ localpart: 'frank', password: 'pw' })).userId, 'pw', {});
    const b = await accounts.login('frank', 'pw', {});
    const c = await accounts.login('frank', 'pw', {});
    const ra = (await accounts.authenticate(a.accessToken))!; // cached now
    await accounts.logout(ra);
    assert.equal(await accounts.authenticate(a.accessToken), undefined);
    assert.ok(await accounts.authenticate(b.accessToken));
    assert.deepEqual((await devices.listDevices(a.userId)).map((d) => d.deviceId).sort(), [b.deviceId, c.deviceId].sort());
    await accounts.logoutAll(a.userId);
    assert.equal(await accounts.authenticate(b.accessToken), undefined);
    assert.equal(await accounts.authenticate(c.accessToken), undefined);
    assert.deepEqual(await devices.listDevices(a.userId), []);
  });
});

test('it should change the password and log out the other devices unless told not to', async () => {
  await withAccounts(async ({ accounts }) => {
    const me = await accounts.register({ localpart: 'gina', password: 'old', login: {} });
    const other = await accounts.login('gina', 'old', {});
    const requester = (await accounts.authenticate(me.accessToken!))!;
    await accounts.changePassword(requester, 'new', true);
    await rejectsWith(accounts.login('gina', 'old', {}), 'M_FORBIDDEN');
    const third = await accounts.login('gina', 'new', {});
    assert.ok(await accounts.authenticate(me.accessToken!), 'the requesting device stays');
    assert.equal(await accounts.authenticate(other.accessToken), undefined, 'the other device is logged out');

    await accounts.changePassword(requester, 'newer', false);
    assert.ok(await accounts.authenticate(third.accessToken), 'logout_devices=false keeps other devices');
    assert.equal((await accounts.login('gina', 'newer', {})).userId, requester.userId);
  });
});

test('it should deactivate a user: tokens dead, login refused as deactivated, name kept, rooms left', async () => {
  const left: string[] = [];
  const deleted: string[][] = [];
  const ports = noopAccountPorts();
  ports.membership = { leaveAllRooms: async (u) => void left.push(u) };
  ports.deviceEvents = { ...ports.deviceEvents, devicesDeleted: async (_u, ids) => void deleted.push(ids) };
  await withAccounts(async ({ accounts, profiles }) => {
    const reg = await accounts.register({ localpart: 'hank', password: 'pw', login: { deviceId: 'ONE' } });
    await accounts.login('hank', 'pw', { deviceId: 'TWO' });
    await accounts.authenticate(reg.accessToken!); // cached
    await accounts.deactivate(reg.userId, { erase: true });
    assert.equal(await accounts.authenticate(reg.accessToken!), undefined);
    await rejectsWith(accounts.login('hank', 'pw', {}), 'M_USER_DEACTIVATED', 403);
    await rejectsWith(accounts.register({ localpart: 'hank', password: 'pw' }), 'M_USER_IN_USE');
    await rejectsWith(profiles.publicProfile(reg.userId), 'M_NOT_FOUND', 404);
    assert.deepEqual(left, [reg.userId]);
    assert.deepEqual(deleted.map((ids) => [...ids].sort()), [['ONE', 'TWO']]);
  }, ports);
});

test('it should leave the rooms of a deactivated user at the next start when it failed before', async () => {
  const ports = noopAccountPorts();
  const left: string[] = [];
  ports.membership = { leaveAllRooms: async () => { throw new Error('rooms unavailable'); } };
  await withAccounts(async ({ accounts }, { reopen }) => {
    const reg = await accounts.register({ localpart: 'ivy', password: 'pw' });
    await accounts.deactivate(reg.userId);
    ports.membership = { leaveAllRooms: async (u) => void left.push(u) };
    const again = await reopen();
    await again.accounts.resumePendingDeactivations();
    assert.deepEqual(left, [reg.userId]);
    left.length = 0;
    await again.accounts.resumePendingDeactivations();
    assert.deepEqual(left, [], 'done once, not again');
  }, ports);
});

test('it should announce new, renamed and deleted devices through the device-events port', async () => {
  const events: string[] = [];
  const ports = noopAccountPorts();
  ports.deviceEvents = {
    devicesDeleted: async (u, ids) => void events.push(`deleted ${u} ${ids.join(',')}`),
    deviceUpdated: async (u, id) => void events.push(`updated ${u} ${id}`),
  };
  await withAccounts(async ({ accounts, devices }) => {
    const reg = await accounts.register({ localpart: 'jack', password: 'pw', login: { deviceId: 'A' } });
    const b = await accounts.login('jack', 'pw', { deviceId: 'B' });
    await devices.renameDevice(reg.userId, 'B', 'Work laptop');
    assert.equal((await devices.getDevice(reg.userId, 'B')).displayName, 'Work laptop');
    await rejectsWith(devices.renameDevice(reg.userId, 'NOPE', 'x'), 'M_NOT_FOUND', 404);
    await rejectsWith(devices.renameDevice(reg.userId, 'B', 'x'.repeat(101)), 'M_INVALID_PARAM', 400);
    await devices.deleteDevices(reg.userId, ['B', 'NEVER-EXISTED']);
    assert.equal(await accounts.authenticate(b.accessToken), undefined);
    await rejectsWith(devices.getDevice(reg.userId, 'B'), 'M_NOT_FOUND', 404);
    assert.ok(await accounts.authenticate(reg.accessToken!));
    assert.deepEqual(events, [
      'updated @jack:example.test A', // registration with a login: room-mates hear of the device at once
      'updated @jack:example.test B', // login
      'updated @jack:example.test B', // rename
      'deleted @jack:example.test B',
    ]);
  }, ports);
});

test("it should let users change only their own profile, and tell the profile port", async () => {
  const changes: unknown[] = [];
  const ports = noopAccountPorts();
  ports.profile = { profileChanged: async (u, p) => void changes.push([u, p]) };
  await withAccounts(async ({ accounts, profiles }) => {
    const kim = await accounts.register({ localpart: 'kim', password: 'pw' });
    await accounts.register({ localpart: 'lee', password: 'pw' });
    await profiles.setField(kim.userId, kim.userId, 'displayname', 'Kim K');
    await profiles.setField(kim.userId, kim.userId, 'avatar_url', 'mxc://example.test/abc');
    await rejectsWith(profiles.setField('@lee:example.test', kim.userId, 'displayname', 'Mallory'), 'M_FORBIDDEN', 403);
    assert.deepEqual(await profiles.publicProfile(kim.userId), { displayname: 'Kim K', avatar_url: 'mxc://example.test/abc' });
    await profiles.setField(kim.userId, kim.userId, 'avatar_url', '');
    await rejectsWith(profiles.field(kim.userId, 'avatar_url'), 'M_NOT_FOUND', 404);
    await rejectsWith(profiles.field('@ghost:example.test', 'displayname'), 'M_NOT_FOUND', 404);
    await rejectsWith(profiles.publicProfile('@kim:remote.test'), 'M_NOT_FOUND', 404);
    assert.deepEqual(changes, [
      [kim.userId, { displayname: 'Kim K' }],
      [kim.userId, { displayname: 'Kim K', avatar_url: 'mxc://example.test/abc' }],
      [kim.userId, { displayname: 'Kim K' }],
    ]);
  }, ports);
});

test('it should let only one of two racing registrations of the same name succeed', async () => {
  await withAccounts(async ({ accounts }) => {
    const results = await Promise.allSettled([
      accounts.register({ localpart: 'mia', password: 'one' }),
      accounts.register({ localpart: 'mia', password: 'two' }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const winner = results[0].status === 'fulfilled' ? 'one' : 'two';
    assert.equal((await accounts.login('mia', winner, {})).userId, '@mia:example.test');
  });
});

test('it should refuse a token that was used again and again as soon as its device is deleted from elsewhere', async () => {
  await withAccounts(async ({ accounts, devices }) => {
    const reg = await accounts.register({ localpart: 'ivy', password: 'pw', login: { deviceId: 'SYNCER' } });
    const other = await accounts.login('ivy', 'pw', { deviceId: 'ADMIN' });
    // A syncing client presents the same token on every request.
    for (let i = 0; i < 3; i++) assert.equal((await accounts.authenticate(reg.accessToken!))?.deviceId, 'SYNCER');
    await devices.deleteDevices(reg.userId, ['SYNCER']);
    assert.equal(await accounts.authenticate(reg.accessToken!), undefined);
    assert.equal(await accounts.authenticate(reg.accessToken!), undefined, 'and it stays refused');
    assert.equal((await accounts.authenticate(other.accessToken))?.deviceId, 'ADMIN');
  });
});
