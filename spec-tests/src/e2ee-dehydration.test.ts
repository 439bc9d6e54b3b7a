// Dehydrated devices (MSC3814, unstable prefix org.matrix.msc3814.v1): Alice sets up recovery
// and a dehydrated device, then has no device online anywhere; Bob's message's room key goes
// to her dehydrated device; her new device rehydrates it and reads the message without any
// key backup. matrix-js-sdk with the Rust crypto, real server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEncryptedRoom,
  cryptoApi,
  decryptedBody,
  E2E_WAIT_MS,
  passwordUia,
  startedCryptoClient,
  textMessage,
  type CryptoCallbacks,
} from './harness/e2ee.js';
import { useServer } from './harness/hooks.js';
import { expectOk, login, rawRequest, registerUser } from './harness/http.js';
import { uniq, waitUntil, withTimeout } from './harness/util.js';

const DEHYDRATED = '/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device';

describe('E2EE dehydrated devices (MSC3814)', () => {
  const ctx = useServer();

  it('should let a user with no device online receive room keys and read them on a new device after rehydrating', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    let recoveryKey: Uint8Array | undefined;
    const keyFrom = (privateKey: () => Uint8Array | undefined): CryptoCallbacks => ({
      getSecretStorageKey: async ({ keys }) => {
        const keyId = Object.keys(keys)[0];
        const key = privateKey();
        return keyId !== undefined && key !== undefined ? [keyId, key as Uint8Array<ArrayBuffer>] : null;
      },
    });
    const alice1 = await startedCryptoClient(t, ctx.server, aliceUser, { cryptoCallbacks: keyFrom(() => recoveryKey) });
    const bob = await startedCryptoClient(t, ctx.server, bobUser);
    const roomId = await createEncryptedRoom(bob, [alice1]);

    // Element's "set up recovery" (no key backup: the dehydrated device alone must carry the key).
    await withTimeout(alice1.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordUia(aliceUser).callback }), E2E_WAIT_MS, 'bootstrapCrossSigning');
    const generated = await alice1.crypto.createRecoveryKeyFromPassphrase();
    recoveryKey = generated.privateKey;
    await withTimeout(
      alice1.crypto.bootstrapSecretStorage({ createSecretStorageKey: async () => generated, setupNewSecretStorage: true }),
      E2E_WAIT_MS,
      'bootstrapSecretStorage',
    );
    assert.equal(await alice1.crypto.isDehydrationSupported(), true, 'the SDK sees that the server supports dehydration');
    await withTimeout(alice1.crypto.startDehydration({ createNewKey: true }), E2E_WAIT_MS, 'startDehydration');
    const dehydrated = expectOk(await rawRequest(ctx.server, 'GET', DEHYDRATED, { token: aliceUser.accessToken }), 'GET dehydrated_device');
    assert.equal(typeof dehydrated.device_id, 'string');
    // Bob's client must see the dehydrated device (device_lists.changed, then /keys/query) before it
    // shares the room key. (An async check: bob.waitFor would take the pending promise for a yes.)
    await waitUntil(
      async () => (await bob.knownDevices(aliceUser.userId, true)).has(dehydrated.device_id),
      E2E_WAIT_MS,
      'Bob’s client to know Alice’s dehydrated device',
    );

    // What Bob's client downloads: the device flagged as dehydrated and signed by Alice's self-signing key
    // (clients share room keys with a dehydrated device only if its owner cross-signed it).
    const q = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/keys/query', { token: bobUser.accessToken, body: { device_keys: { [aliceUser.userId]: [] } } }),
      'keys/query',
    );
    const dehydratedKeys = q.device_keys[aliceUser.userId][dehydrated.device_id];
    assert.equal(dehydratedKeys?.dehydrated, true, 'the device keys say dehydrated');
    const sskId = Object.keys(q.self_signing_keys[aliceUser.userId].keys)[0];
    assert.equal(typeof dehydratedKeys.signatures[aliceUser.userId][sskId], 'string', 'the device is signed by Alice’s self-signing key');

    // Alice goes offline everywhere; Bob writes.
    alice1.stop();
    const body = `while-offline-${uniq()}`;
    await bob.client.sendMessage(roomId, textMessage(body));
    assert.ok(
      bob.toDeviceSends.some((s) => s.eventType === 'm.room.encrypted' && s.recipients[aliceUser.userId]?.includes(dehydrated.device_id)),
      `Bob's client sent the room key to the dehydrated device (it sent: ${JSON.stringify(bob.toDeviceSends)})`,
    );
    bob.stop();

    // A new device of Alice's: the user types the recovery key; the device rehydrates.
    const typed = cryptoApi.decodeRecoveryKey(generated.encodedPrivateKey ?? '');
    const alice2 = await startedCryptoClient(t, ctx.server, await login(ctx.server, aliceUser), { cryptoCallbacks: keyFrom(() => typed) });
    // As Element after the recovery key is entered: the cross-signing keys come from secret storage
    // (checked against the public keys, which the device downloads first).
    assert.equal(await alice2.crypto.userHasCrossSigningKeys(aliceUser.userId, true), true, 'Alice’s cross-signing keys are published');
    await withTimeout(alice2.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordUia(aliceUser).callback }), E2E_WAIT_MS, 'bootstrapCrossSigning from secret storage');
    // This device did not exist when Bob wrote and no backup exists: the room key can only come from the dehydrated device.
    const rehydration = { started: false, roomKeys: 0, toDevice: 0, error: undefined as string | undefined };
    alice2.client.on(cryptoApi.CryptoEvent.RehydrationStarted, () => (rehydration.started = true));
    alice2.client.on(cryptoApi.CryptoEvent.RehydrationProgress, (roomKeys: number, toDevice: number) => Object.assign(rehydration, { roomKeys, toDevice }));
    alice2.client.on(cryptoApi.CryptoEvent.RehydrationError, (message: string) => (rehydration.error = message));
    await withTimeout(alice2.crypto.startDehydration({ rehydrate: true }), E2E_WAIT_MS, 'startDehydration with rehydration');
    assert.equal(rehydration.error, undefined, 'rehydration did not fail');
    assert.equal(rehydration.started, true, 'the new device found the dehydrated device and its key');
    assert.ok(rehydration.roomKeys >= 1, `the dehydrated device's queue held Bob's room key (${rehydration.roomKeys} room keys in ${rehydration.toDevice} to-device messages)`);
    const room = await alice2.waitForRoom(roomId, 'the new device to know the room');
    const ev = await alice2.waitFor(
      'Bob’s message to decrypt on the new device',
      () => room.getLiveTimeline().getEvents().find((e) => decryptedBody(e) === body),
      E2E_WAIT_MS,
    );
    assert.equal(ev.getWireType(), 'm.room.encrypted');
    const after = expectOk(await rawRequest(ctx.server, 'GET', DEHYDRATED, { token: aliceUser.accessToken }), 'GET dehydrated_device after rehydration');
    assert.notEqual(after.device_id, dehydrated.device_id, 'a fresh dehydrated device replaces the one that was used');
  });
});
