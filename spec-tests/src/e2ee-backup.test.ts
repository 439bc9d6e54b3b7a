// Server-side key backup: Alice's first device backs up its room keys (/room_keys), a new
// device of hers restores them with the backup key and reads the old history it fetches
// through /messages. matrix-js-sdk with the Rust crypto, real server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HasBaseUrl, User } from './harness/http.js';
import {
  createEncryptedRoom,
  cryptoApi,
  decryptedBody,
  E2E_WAIT_MS,
  makeCryptoClient,
  passwordUia,
  startedCryptoClient,
  textMessage,
  waitForDecrypted,
  type CryptoCallbacks,
  type CryptoTestClient,
} from './harness/e2ee.js';
import { useServer } from './harness/hooks.js';
import { enc, expectOk, login, rawRequest, registerUser, type Json } from './harness/http.js';
import { uniq, waitUntil, withTimeout } from './harness/util.js';

interface Sent {
  eventId: string;
  body: string;
}

/** Six messages, alternately from Alice's device and Bob's; returns them and the two megolm session IDs. */
async function writeHistory(alice: CryptoTestClient, bob: CryptoTestClient, roomId: string): Promise<{ history: Sent[]; sessionIds: Set<string> }> {
  const history: Sent[] = [];
  for (let i = 0; i < 6; i++) {
    const sender = i % 2 === 0 ? alice : bob;
    const body = `history-${i}-${uniq()}`;
    const { event_id: eventId } = await sender.client.sendMessage(roomId, textMessage(body));
    history.push({ eventId, body });
  }
  for (const { body } of history) await waitForDecrypted(alice, roomId, body);
  const room = alice.client.getRoom(roomId);
  const sessionIds = new Set(history.map(({ eventId }) => room?.findEventById(eventId)?.getWireContent().session_id as string));
  assert.equal(sessionIds.size, 2, 'two megolm sessions: Alice’s and Bob’s');
  return { history, sessionIds };
}

/** Waits until the backup `version` on the server holds every one of `sessionIds` for `roomId`. */
async function waitForBackedUp(server: HasBaseUrl, user: User, roomId: string, version: string, sessionIds: Set<string>): Promise<Json> {
  // The client's backup loop uploads after a short random delay.
  const backedUp: Json = await waitUntil(
    async () => {
      const res = await rawRequest(server, 'GET', `/_matrix/client/v3/room_keys/keys/${enc(roomId)}?version=${enc(version)}`, { token: user.accessToken });
      const body = expectOk(res, 'GET /room_keys/keys/{roomId}');
      return [...sessionIds].every((s) => body.sessions?.[s]) ? body : undefined;
    },
    E2E_WAIT_MS,
    `both sessions (${[...sessionIds].join(', ')}) to appear in backup version ${version}`,
    250,
  );
  for (const s of sessionIds) {
    const data = backedUp.sessions[s];
    assert.equal(typeof data.first_message_index, 'number', `${s}: first_message_index`);
    assert.equal(typeof data.session_data?.ciphertext, 'string', `${s}: the server holds only ciphertext`);
  }
  return backedUp;
}

/**
 * A new device of Alice's starts with only the latest event, pages back through /messages,
 * finds the old messages undecryptable, runs `restore`, and then reads every one of them.
 */
async function readHistoryOnNewDevice(
  t: { after(fn: () => unknown): void },
  server: HasBaseUrl,
  aliceUser: User,
  roomId: string,
  history: Sent[],
  restore: (device: CryptoTestClient) => Promise<void>,
  cryptoCallbacks?: CryptoCallbacks,
): Promise<void> {
  const newUser = await login(server, aliceUser);
  const device = await makeCryptoClient(server, newUser, cryptoCallbacks ? { cryptoCallbacks } : {});
  t.after(() => device.stop());
  await device.start({ initialSyncLimit: 1 });
  const room = await device.waitForRoom(roomId, 'the new device to know the room');
  let pages = 0;
  while (history.some(({ eventId }) => room.findEventById(eventId) === undefined)) {
    assert.ok(++pages <= 20, 'the old messages are reachable by paging back through /messages');
    await withTimeout(device.client.scrollback(room, 10), E2E_WAIT_MS, 'scrollback (GET /messages)');
  }
  // Without the backup they cannot be read: this device did not exist when they were sent.
  await device.waitFor(
    'the old messages to show as "unable to decrypt" before the restore',
    () => history.every(({ eventId }) => room.findEventById(eventId)?.isDecryptionFailure()),
    E2E_WAIT_MS,
  );

  await restore(device);

  for (const { eventId, body } of history) {
    const ev = await device.waitFor(
      `old message ${eventId} to decrypt after the restore`,
      () => {
        const e = room.findEventById(eventId);
        return e !== undefined && decryptedBody(e) !== undefined ? e : undefined;
      },
      E2E_WAIT_MS,
    );
    assert.equal(decryptedBody(ev), body, 'the restored history reads as it was written');
  }
}

describe('E2EE key backup', () => {
  const ctx = useServer();

  it('should let a new device restore Alice’s backed-up room keys and decrypt old history from /messages', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    const alice1 = await startedCryptoClient(t, ctx.server, aliceUser);
    const bob = await startedCryptoClient(t, ctx.server, bobUser);
    const roomId = await createEncryptedRoom(alice1, [bob]);

    const { history, sessionIds } = await writeHistory(alice1, bob, roomId);

    // Alice's first device creates a backup (POST /room_keys/version) and uploads its keys.
    await withTimeout(alice1.crypto.resetKeyBackup(), E2E_WAIT_MS, 'resetKeyBackup on Alice’s first device');
    const version = await alice1.crypto.getActiveSessionBackupVersion();
    assert.ok(version, 'the device is backing up to the new version');
    const backupKey = await alice1.crypto.getSessionBackupPrivateKey();
    assert.ok(backupKey, 'the device holds the backup decryption key');

    const info = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/room_keys/version', { token: aliceUser.accessToken }), 'GET /room_keys/version');
    assert.equal(info.version, version, 'the server’s current backup is the one the client created');
    assert.equal(info.algorithm, 'm.megolm_backup.v1.curve25519-aes-sha2');
    await waitForBackedUp(ctx.server, aliceUser, roomId, version, sessionIds);
    const versionNow = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/room_keys/version/${enc(version)}`, { token: aliceUser.accessToken }), 'GET version');
    assert.ok(versionNow.count >= 2, `the backup counts its keys: ${JSON.stringify(versionNow)}`);
    assert.equal(typeof versionNow.etag, 'string', 'and has an etag');

    // Nobody who holds the keys stays online: the new device can only get them from the backup.
    alice1.stop();
    bob.stop();

    await readHistoryOnNewDevice(t, ctx.server, aliceUser, roomId, history, async (device) => {
      await device.crypto.storeSessionBackupPrivateKey(backupKey, version);
      const restored = await withTimeout(device.crypto.restoreKeyBackup(), E2E_WAIT_MS, 'restoreKeyBackup on the new device');
      assert.ok(restored.imported >= 2, `restored both sessions: ${JSON.stringify(restored)}`);
    });
  });

  it('should restore through secret storage: the new device enters the recovery key and reads old history', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    // What the user writes down when setting up "recovery" in Element; the app hands it to the SDK.
    let recoveryKey: { keyInfo?: unknown; privateKey: Uint8Array; encodedPrivateKey?: string } | undefined;
    const keyFrom = (privateKey: () => Uint8Array | undefined): CryptoCallbacks => ({
      getSecretStorageKey: async ({ keys }) => {
        const keyId = Object.keys(keys)[0];
        const key = privateKey();
        return keyId !== undefined && key !== undefined ? [keyId, key as Uint8Array<ArrayBuffer>] : null;
      },
    });
    const alice1 = await startedCryptoClient(t, ctx.server, aliceUser, { cryptoCallbacks: keyFrom(() => recoveryKey?.privateKey) });
    const bob = await startedCryptoClient(t, ctx.server, bobUser);
    const roomId = await createEncryptedRoom(alice1, [bob]);
    const { history, sessionIds } = await writeHistory(alice1, bob, roomId);

    // Element's "set up recovery": cross-signing, then secret storage with a new key backup.
    await withTimeout(alice1.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordUia(aliceUser).callback }), E2E_WAIT_MS, 'bootstrapCrossSigning');
    const generated = await alice1.crypto.createRecoveryKeyFromPassphrase();
    recoveryKey = generated;
    await withTimeout(
      alice1.crypto.bootstrapSecretStorage({ createSecretStorageKey: async () => generated, setupNewSecretStorage: true, setupNewKeyBackup: true }),
      E2E_WAIT_MS,
      'bootstrapSecretStorage with a new key backup',
    );
    assert.equal(await alice1.crypto.isSecretStorageReady(), true, 'secret storage holds the cross-signing keys and the backup key');
    const version = await alice1.crypto.getActiveSessionBackupVersion();
    assert.ok(version, 'the device is backing up');
    await waitForBackedUp(ctx.server, aliceUser, roomId, version, sessionIds);

    // The secrets live in Alice's account data, encrypted: the server only ever sees ciphertext.
    const stored = expectOk(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/user/${enc(aliceUser.userId)}/account_data/m.megolm_backup.v1`, { token: aliceUser.accessToken }),
      'GET account_data m.megolm_backup.v1',
    );
    const encrypted = Object.values(stored.encrypted ?? {}) as { ciphertext?: unknown }[];
    assert.ok(encrypted.length === 1 && typeof encrypted[0]?.ciphertext === 'string', `the backup key is stored encrypted: ${JSON.stringify(stored)}`);

    alice1.stop();
    bob.stop();

    // The user types the recovery key on the new device.
    const typed = cryptoApi.decodeRecoveryKey(generated.encodedPrivateKey ?? '');
    await readHistoryOnNewDevice(
      t,
      ctx.server,
      aliceUser,
      roomId,
      history,
      async (device) => {
        await withTimeout(device.crypto.loadSessionBackupPrivateKeyFromSecretStorage(), E2E_WAIT_MS, 'loadSessionBackupPrivateKeyFromSecretStorage');
        const restored = await withTimeout(device.crypto.restoreKeyBackup(), E2E_WAIT_MS, 'restoreKeyBackup on the new device');
        assert.ok(restored.imported >= 2, `restored both sessions: ${JSON.stringify(restored)}`);
      },
      keyFrom(() => typed),
    );
  });
});
