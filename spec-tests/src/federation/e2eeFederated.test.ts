// End-to-end encryption across two federated department servers: Alice on hr and Bob on
// legal hold an encrypted conversation both ways with no "unable to decrypt"; a device Alice
// deletes on hr disappears from legal's /keys/query and gets no more room keys from Bob.
// Device lists travel as m.device_list_update EDUs (hr → legal) and are answered on legal
// from its cache or user/keys/query on hr; room keys travel as m.direct_to_device EDUs.
// matrix-js-sdk with the Rust crypto, real servers over HTTPS with a test CA.
// Spec: server-server-api.md "Device Management", "End-to-End Encryption", "Send-to-device
// messaging"; client-server-api modules/end_to_end_encryption.md.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  createEncryptedRoom,
  deleteDeviceWithPassword,
  E2E_WAIT_MS,
  queriedDeviceIds,
  startedCryptoClient,
  textMessage,
  waitForDecrypted,
  type CryptoTestClient,
} from '../harness/e2ee.js';
import { useFederatedServers, type FederatedServer } from '../harness/federation.js';
import { login, registerUser } from '../harness/http.js';
import { uniq, waitUntil } from '../harness/util.js';

const fed = useFederatedServers(2);
let hr: FederatedServer;
let legal: FederatedServer;

before(async () => {
  [hr, legal] = await fed.ready();
});

/** Waits until `viewer`'s crypto lists (or no longer lists) `deviceId` of `userId`, without asking it to download. */
async function waitForDeviceInList(viewer: CryptoTestClient, userId: string, deviceId: string, present: boolean): Promise<void> {
  await waitUntil(
    async () => (await viewer.knownDevices(userId)).has(deviceId) === present,
    E2E_WAIT_MS,
    `${viewer.user.localpart}'s device list ${present ? 'to show' : 'to drop'} ${userId}'s device ${deviceId}`,
  );
}

/** The Olm-encrypted to-device messages (room keys) `sender` addressed to `userId`'s devices since `from`. */
function olmRecipients(sender: CryptoTestClient, userId: string, from: number): string[] {
  return sender.toDeviceSends
    .slice(from)
    .filter((s) => s.eventType === 'm.room.encrypted')
    .flatMap((s) => s.recipients[userId] ?? []);
}

function failuresIn(roomId: string, clients: CryptoTestClient[]): string[] {
  return clients.flatMap((c) => c.decryptionFailures.filter((f) => f.roomId === roomId).map((f) => `${c.user.userId}/${c.user.deviceId}: ${f.eventId} ${f.reason}`));
}

describe('E2EE between two federated servers', () => {
  it('should decrypt messages both ways between Alice on hr and Bob on legal with no decryption failures', async (t) => {
    const alice = await startedCryptoClient(t, hr, await registerUser(hr, uniq('alice')));
    const bob = await startedCryptoClient(t, legal, await registerUser(legal, uniq('bob')));
    const roomId = await createEncryptedRoom(alice, [bob]);

    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const from = i % 2 === 0 ? alice : bob;
      const to = i % 2 === 0 ? bob : alice;
      const body = `fed-${i}-${from.user.localpart}-${uniq()}`;
      await from.client.sendMessage(roomId, textMessage(body));
      await waitForDecrypted(to, roomId, body);
      sent.push(body);
    }
    assert.equal(sent.length, 6);
    assert.deepEqual(failuresIn(roomId, [alice, bob]), [], 'no "unable to decrypt", even briefly');
  });

  it('should drop a device deleted on hr from legal’s /keys/query and stop sending it room keys', async (t) => {
    const aliceUser = await registerUser(hr, uniq('alice'));
    const alice2User = await login(hr, aliceUser);
    const bobUser = await registerUser(legal, uniq('bob'));
    const alice1 = await startedCryptoClient(t, hr, aliceUser);
    const alice2 = await startedCryptoClient(t, hr, alice2User);
    const bob = await startedCryptoClient(t, legal, bobUser);
    const roomId = await createEncryptedRoom(bob, [alice1, alice2]);
    await waitForDeviceInList(bob, aliceUser.userId, alice2User.deviceId, true);

    const mark1 = bob.toDeviceSends.length;
    const first = `before-delete-${uniq()}`;
    await bob.client.sendMessage(roomId, textMessage(first));
    await waitForDecrypted(alice1, roomId, first);
    await waitForDecrypted(alice2, roomId, first);
    assert.ok(olmRecipients(bob, aliceUser.userId, mark1).includes(alice2User.deviceId), 'Bob shared the room key with both of Alice’s devices');

    await deleteDeviceWithPassword(hr, aliceUser, alice2User.deviceId);
    alice2.stop();
    // legal learns of it from hr (m.device_list_update), not because anyone asked.
    await waitUntil(
      async () => !(await queriedDeviceIds(legal, bobUser, aliceUser.userId)).includes(alice2User.deviceId),
      E2E_WAIT_MS,
      'legal’s /keys/query to drop the deleted device',
    );
    const queried = await queriedDeviceIds(legal, bobUser, aliceUser.userId);
    assert.ok(queried.includes(aliceUser.deviceId), `legal still returns Alice’s first device: ${JSON.stringify(queried)}`);
    await waitForDeviceInList(bob, aliceUser.userId, alice2User.deviceId, false);

    const mark2 = bob.toDeviceSends.length;
    const second = `after-delete-${uniq()}`;
    await bob.client.sendMessage(roomId, textMessage(second));
    await waitForDecrypted(alice1, roomId, second);
    const after = olmRecipients(bob, aliceUser.userId, mark2);
    assert.ok(!after.includes(alice2User.deviceId), `no room key for the deleted device (sent to ${JSON.stringify(after)})`);
    assert.ok(after.includes(aliceUser.deviceId), `the new room key went to Alice’s remaining device (sent to ${JSON.stringify(after)})`);
    assert.deepEqual(failuresIn(roomId, [alice1, bob]), [], 'no "unable to decrypt" on the devices that remain');
  });
});
