// End-to-end encryption as devices come and go: a second device of Bob's gets the keys for
// new messages and shows up in his other device's list; a device Alice deletes disappears
// from /keys/query and gets no more room keys. matrix-js-sdk with the Rust crypto, real server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEncryptedRoom,
  deleteDeviceWithPassword,
  E2E_WAIT_MS,
  queriedDeviceIds,
  startedCryptoClient,
  textMessage,
  waitForDecrypted,
  type CryptoTestClient,
} from './harness/e2ee.js';
import { useServer } from './harness/hooks.js';
import { expectError, login, rawRequest, registerUser } from './harness/http.js';
import { uniq, waitUntil } from './harness/util.js';

const text = textMessage;

/** Waits until `viewer`'s crypto lists (or no longer lists) `deviceId` of `userId`, without asking it to download. */
async function waitForDeviceInList(viewer: CryptoTestClient, userId: string, deviceId: string, present: boolean): Promise<void> {
  await waitUntil(
    async () => (await viewer.knownDevices(userId)).has(deviceId) === present,
    E2E_WAIT_MS,
    `${viewer.user.localpart}/${viewer.user.deviceId}'s device list ${present ? 'to show' : 'to drop'} ${userId}'s device ${deviceId} ` +
      `(the server must put ${userId} in device_lists.changed of its /sync)`,
  );
}

/** The megolm session a received encrypted event was encrypted with. */
function sessionIdOf(viewer: CryptoTestClient, roomId: string, eventId: string): string {
  const ev = viewer.client.getRoom(roomId)?.findEventById(eventId);
  const sessionId = ev?.getWireContent().session_id;
  assert.equal(typeof sessionId, 'string', `${viewer.user.localpart} has event ${eventId} with a megolm session_id`);
  return sessionId as string;
}

/** The room-key carrying to-device messages (Olm-encrypted) `sender` addressed to `userId`'s devices since `from`. */
function olmRecipients(sender: CryptoTestClient, userId: string, from: number): string[] {
  return sender.toDeviceSends
    .slice(from)
    .filter((s) => s.eventType === 'm.room.encrypted')
    .flatMap((s) => s.recipients[userId] ?? []);
}

describe('E2EE across a user’s devices', () => {
  const ctx = useServer();

  it('should decrypt new messages on Bob’s second device and show it in the device list of his first', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    const alice = await startedCryptoClient(t, ctx.server, aliceUser);
    const bob1 = await startedCryptoClient(t, ctx.server, bobUser);
    const roomId = await createEncryptedRoom(alice, [bob1]);

    const early = `before-second-device-${uniq()}`;
    await alice.client.sendMessage(roomId, text(early));
    await waitForDecrypted(bob1, roomId, early);

    // Bob logs in again: a new device with new keys.
    const bob2User = await login(ctx.server, bobUser);
    assert.notEqual(bob2User.deviceId, bobUser.deviceId, 'a second login gives a new device');
    const bob2 = await startedCryptoClient(t, ctx.server, bob2User);
    await waitUntil(
      async () => (await queriedDeviceIds(ctx.server, bobUser, bobUser.userId)).includes(bob2User.deviceId),
      E2E_WAIT_MS,
      'the new device’s keys to be published (POST /keys/upload by its client)',
    );

    // What Bob sees in his first device's session list: the server's list and the crypto's.
    const { devices } = await bob1.client.getDevices();
    assert.ok(
      devices.some((d) => d.device_id === bob2User.deviceId),
      `GET /devices from the first device lists the second: ${JSON.stringify(devices.map((d) => d.device_id))}`,
    );
    await waitForDeviceInList(bob1, bobUser.userId, bob2User.deviceId, true);
    const info = (await bob1.crypto.getUserDeviceInfo([bobUser.userId])).get(bobUser.userId)?.get(bob2User.deviceId);
    assert.equal(info?.getIdentityKey(), (await bob2.crypto.getOwnDeviceKeys()).curve25519, 'the first device has the second device’s real identity key');
    // Alice must know the device too, or her client cannot share the room key with it.
    await waitForDeviceInList(alice, bobUser.userId, bob2User.deviceId, true);

    const fromAlice = `after-second-device-${uniq()}`;
    await alice.client.sendMessage(roomId, text(fromAlice));
    const atBob2 = await waitForDecrypted(bob2, roomId, fromAlice);
    await waitForDecrypted(bob1, roomId, fromAlice);
    assert.equal(atBob2.getSender(), aliceUser.userId);

    // And back: the new device's own message decrypts for Alice and Bob's first device.
    const fromBob2 = `from-second-device-${uniq()}`;
    await bob2.client.sendMessage(roomId, text(fromBob2));
    await waitForDecrypted(alice, roomId, fromBob2);
    await waitForDecrypted(bob1, roomId, fromBob2);

    // Only the message from before the device existed may have failed to decrypt on it.
    const earlyId = bob1.client.getRoom(roomId)?.getLiveTimeline().getEvents().find((e) => e.getContent().body === early)?.getId();
    const unexpected = [alice, bob1, bob2].flatMap((c) =>
      c.decryptionFailures.filter((f) => f.roomId === roomId && !(c === bob2 && f.eventId === earlyId)).map((f) => `${c.user.deviceId}: ${f.eventId} ${f.reason}`),
    );
    assert.deepEqual(unexpected, [], 'no "unable to decrypt" for messages sent while the device existed');
  });

  it('should drop a deleted device from /keys/query and stop sharing room keys with it', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    const alice2User = await login(ctx.server, aliceUser);
    const alice1 = await startedCryptoClient(t, ctx.server, aliceUser);
    const alice2 = await startedCryptoClient(t, ctx.server, alice2User);
    const bob = await startedCryptoClient(t, ctx.server, bobUser);
    const roomId = await createEncryptedRoom(bob, [alice1, alice2]);
    await waitForDeviceInList(bob, aliceUser.userId, alice2User.deviceId, true);

    // Before: Bob's room key goes to both of Alice's devices.
    const mark1 = bob.toDeviceSends.length;
    const first = `before-delete-${uniq()}`;
    const { event_id: firstId } = await bob.client.sendMessage(roomId, text(first));
    await waitForDecrypted(alice1, roomId, first);
    await waitForDecrypted(alice2, roomId, first);
    const before = olmRecipients(bob, aliceUser.userId, mark1);
    assert.ok(before.includes(alice2User.deviceId), `Bob sent the room key to the second device before the deletion (sent to ${JSON.stringify(before)})`);

    // Alice, on her first device, deletes the second (the server asks for her password).
    await deleteDeviceWithPassword(ctx.server, aliceUser, alice2User.deviceId);
    alice2.stop();
    expectError(
      await rawRequest(ctx.server, 'GET', '/_matrix/client/v3/account/whoami', { token: alice2User.accessToken }),
      401,
      'M_UNKNOWN_TOKEN',
      'the deleted device’s access token',
    );
    const queried = await queriedDeviceIds(ctx.server, bobUser, aliceUser.userId);
    assert.ok(!queried.includes(alice2User.deviceId), `/keys/query no longer returns the deleted device: ${JSON.stringify(queried)}`);
    assert.ok(queried.includes(aliceUser.deviceId), `/keys/query still returns Alice’s first device: ${JSON.stringify(queried)}`);
    // Bob's client learns it through device_lists.changed, without being told to re-download.
    await waitForDeviceInList(bob, aliceUser.userId, alice2User.deviceId, false);

    // After: the next message uses a new megolm session that only the remaining device gets.
    const mark2 = bob.toDeviceSends.length;
    const second = `after-delete-${uniq()}`;
    const { event_id: secondId } = await bob.client.sendMessage(roomId, text(second));
    await waitForDecrypted(alice1, roomId, second);
    const after = olmRecipients(bob, aliceUser.userId, mark2);
    assert.ok(!after.includes(alice2User.deviceId), `no to-device message for the deleted device after its deletion (sent to ${JSON.stringify(after)})`);
    assert.notEqual(
      sessionIdOf(alice1, roomId, secondId),
      sessionIdOf(alice1, roomId, firstId),
      'Bob’s client rotated the megolm session, so the deleted device’s copy of the old key opens nothing new',
    );
    assert.ok(after.includes(aliceUser.deviceId), `the new session went to Alice’s remaining device (sent to ${JSON.stringify(after)})`);
    const failures = [alice1, bob].flatMap((c) => c.decryptionFailures.filter((f) => f.roomId === roomId).map((f) => `${c.user.deviceId}: ${f.reason}`));
    assert.deepEqual(failures, [], 'no "unable to decrypt" on the devices that remain');
  });
});
