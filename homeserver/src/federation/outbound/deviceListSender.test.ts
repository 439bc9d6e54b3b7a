// Local device changes reach the other servers of the user's rooms: the real key server
// and accounts on a temp database; what the sender queues is checked EDU by EDU.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Edu } from '@parley/federation/ports';
import { FakeCrossSigningKey, withE2ee, type Kit } from '../../e2ee/testKit.js';
import { DeviceListOutboxRepo } from '../../storage/deviceListOutboxRepo.js';
import { E2eeRepo } from '../../storage/e2eeRepo.js';
import { UserQueryAdapter, type UserQueryDeps } from '../serve/userQueryAdapter.js';
import { DeviceListSender, streamIdsFor, type UserDevicesView } from './deviceListSender.js';

type Queued = { destinations: string[]; edu: Edu };

function senderFor(
  k: Kit,
  queued: Queued[],
  errors: unknown[],
  opts: { queueFails?: boolean; sharing?: (userId: string) => string[]; devicesRead?: string[] } = {},
): DeviceListSender {
  const e2eeRepo = new E2eeRepo(k.db);
  const deps: UserQueryDeps = {
    serverName: 'e2ee.test',
    keys: k.e2ee.service.keys,
    devices: async (u) => (await k.accounts.devices.listDevices(u)).map((d) => ({ deviceId: d.deviceId, ...(d.displayName !== undefined ? { displayName: d.displayName } : {}) })),
    streamId: (u) => e2eeRepo.deviceListPosition(u),
    openId: { userOf: async () => undefined },
  };
  const users = new UserQueryAdapter(deps);
  const sender = new DeviceListSender({
    serverName: 'e2ee.test',
    devicesOf: async (u) => {
      opts.devicesRead?.push(u);
      return (await users.devices(u)) as unknown as UserDevicesView;
    },
    serversSharingRoomWith: async (u) => opts.sharing?.(u) ?? ['hr.test', 'legal.test'],
    repo: new DeviceListOutboxRepo(k.db),
    changes: (after, upTo, limit) => e2eeRepo.deviceListChanges(after, upTo, limit),
    queues: {
      enqueue: async (d, items) => {
        if (opts.queueFails) throw new Error('disk full');
        queued.push(...items.map((i) => ({ destinations: [...d], edu: i.edu })));
      },
    },
    onError: (e) => errors.push(e),
  });
  return sender;
}

const content = (q: Queued) => q.edu.content as Record<string, unknown>;

test('it should announce added, updated and deleted devices with a stream_id / prev_id chain that survives a restart', async () => {
  await withE2ee(async (k) => {
    const queued: Queued[] = [];
    const errors: unknown[] = [];
    let sender = senderFor(k, queued, errors);
    const current = { sender };
    k.e2ee.service.deviceLists.onPublicChange((u, pos) => current.sender.changed(u, pos));

    const alice = await k.register('alice');
    await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() });
    await sender.idle();
    assert.equal(queued.length, 1);
    const first = content(queued[0]);
    assert.equal(queued[0].edu.edu_type, 'm.device_list_update');
    assert.deepEqual(queued[0].destinations, ['hr.test', 'legal.test']);
    assert.equal(first.device_id, alice.deviceId);
    assert.deepEqual(first.prev_id, [], 'the first announcement makes peers fetch the list');
    assert.equal((first.keys as { device_id: string }).device_id, alice.deviceId, 'the device keys go along');

    // Uploading one-time keys only changes nothing others see.
    await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { one_time_keys: alice.oneTimeKeys(3) });
    await sender.idle();
    assert.equal(queued.length, 1);

    // "Restart": a new sender over the same database continues the chain.
    sender = senderFor(k, queued, errors);
    current.sender = sender;
    const phone = await k.login(alice.userId, 'PHONE');
    await k.e2ee.service.keys.upload(phone.userId, phone.deviceId, { device_keys: phone.deviceKeys() });
    await sender.idle();
    assert.equal(queued.length, 2);
    const second = content(queued[1]);
    assert.equal(second.device_id, 'PHONE');
    assert.deepEqual(second.prev_id, [first.stream_id]);
    assert.ok((second.stream_id as number) > (first.stream_id as number));

    // A renamed device is announced with its new display name.
    await k.accounts.devices.renameDevice(alice.userId, 'PHONE', 'Work phone');
    await sender.idle();
    const third = content(queued[2]);
    assert.equal(third.device_id, 'PHONE');
    assert.equal(third.device_display_name, 'Work phone');
    assert.deepEqual(third.prev_id, [second.stream_id]);

    await k.accounts.devices.deleteDevices(alice.userId, ['PHONE']);
    await sender.idle();
    const fourth = content(queued[3]);
    assert.equal(fourth.device_id, 'PHONE');
    assert.equal(fourth.deleted, true);
    assert.equal(fourth.keys, undefined);
    assert.deepEqual(fourth.prev_id, [third.stream_id]);
    assert.equal(queued.length, 4);
    assert.deepEqual(errors, []);
  });
});

test('it should send m.signing_key_update when the master or self-signing key changes', async () => {
  await withE2ee(async (k) => {
    const queued: Queued[] = [];
    const errors: unknown[] = [];
    const sender = senderFor(k, queued, errors);
    k.e2ee.service.deviceLists.onPublicChange(sender.changed);
    const bob = await k.register('bob');
    const master = new FakeCrossSigningKey();
    const selfSigning = new FakeCrossSigningKey();
    await k.e2ee.service.crossSigning.upload(bob.userId, {
      master_key: master.object(bob.userId, 'master'),
      self_signing_key: selfSigning.object(bob.userId, 'self_signing', master),
    } as never);
    await sender.idle();
    assert.deepEqual(errors, []);
    assert.equal(queued.length, 1);
    assert.equal(queued[0].edu.edu_type, 'm.signing_key_update');
    const c = content(queued[0]);
    assert.equal(c.user_id, bob.userId);
    assert.deepEqual((c.master_key as { keys: unknown }).keys, { [master.keyId]: master.publicKey });
    assert.deepEqual((c.self_signing_key as { keys: unknown }).keys, { [selfSigning.keyId]: selfSigning.publicKey });
  });
});

test('it should give several devices changed at once distinct increasing stream ids when they fit', () => {
  assert.deepEqual(streamIdsFor(3, 10, 20), [18, 19, 20]);
  assert.deepEqual(streamIdsFor(1, 10, 11), [11]);
  assert.equal(streamIdsFor(3, 10, 11), undefined);
});

test('it should announce at startup a device change whose announcement a crash lost, and only once', async () => {
  await withE2ee(async (k) => {
    const queued: Queued[] = [];
    const errors: unknown[] = [];
    // A first run announced alice's first device and recorded its startup cursor.
    const first = senderFor(k, queued, errors);
    const unsubscribed = { on: true };
    k.e2ee.service.deviceLists.onPublicChange((u, pos) => {
      if (unsubscribed.on) first.changed(u, pos);
    });
    await first.resendPending(k.stream.persisted);
    const alice = await k.register('alice');
    await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() });
    await first.idle();
    assert.equal(queued.length, 1);

    // The process dies after writing the new device's keys, before the EDU is queued.
    unsubscribed.on = false;
    const phone = await k.login(alice.userId, 'PHONE');
    await k.e2ee.service.keys.upload(phone.userId, phone.deviceId, { device_keys: phone.deviceKeys() });
    assert.equal(queued.length, 1);

    // Restart: a new sender over the same database sends what was lost, with the chain intact.
    const restarted = senderFor(k, queued, errors);
    await restarted.resendPending(k.stream.persisted);
    assert.equal(queued.length, 2);
    const c = content(queued[1]);
    assert.equal(c.device_id, 'PHONE');
    assert.deepEqual(queued[1].destinations, ['hr.test', 'legal.test']);
    assert.deepEqual(c.prev_id, [content(queued[0]).stream_id]);

    // Another restart sends nothing again.
    await senderFor(k, queued, errors).resendPending(k.stream.persisted);
    assert.equal(queued.length, 2);
    assert.deepEqual(errors, []);
  });
});

test('it should try again at the next startup when re-sending failed', async () => {
  await withE2ee(async (k) => {
    const queued: Queued[] = [];
    const errors: unknown[] = [];
    const bob = await k.register('bob');
    await k.e2ee.service.keys.upload(bob.userId, bob.deviceId, { device_keys: bob.deviceKeys() });
    await senderFor(k, queued, errors, { queueFails: true }).resendPending(k.stream.persisted);
    assert.equal(queued.length, 0);
    assert.equal(errors.length, 1);

    await senderFor(k, queued, errors).resendPending(k.stream.persisted);
    assert.equal(queued.length, 1);
    assert.equal(content(queued[0]).device_id, bob.deviceId);
  });
});

test('it should not read at startup the devices of users no other server shares a room with', async () => {
  await withE2ee(async (k) => {
    const queued: Queued[] = [];
    const errors: unknown[] = [];
    // Changes made while no sender listened (as if their announcements were lost).
    const alice = await k.register('alice');
    await k.e2ee.service.keys.upload(alice.userId, alice.deviceId, { device_keys: alice.deviceKeys() });
    const loner = await k.register('loner');
    await k.e2ee.service.keys.upload(loner.userId, loner.deviceId, { device_keys: loner.deviceKeys() });

    const devicesRead: string[] = [];
    const sharing = (u: string) => (u === loner.userId ? [] : ['hr.test']);
    await senderFor(k, queued, errors, { sharing, devicesRead }).resendPending(k.stream.persisted);
    assert.deepEqual(errors, []);
    assert.deepEqual(devicesRead, [alice.userId], 'only the user with a remote peer is looked at');
    assert.deepEqual(queued.map((q) => content(q).user_id), [alice.userId]);
  });
});
