// What Element users expect: no "unable to decrypt" for messages sent while every device was
// online. Alice and Bob, two devices each, hold a short encrypted conversation; every device
// reads every message and no device ever fails to decrypt one, not even briefly.
// matrix-js-sdk with the Rust crypto, real server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEncryptedRoom, decryptedBody, E2E_WAIT_MS, startedCryptoClient, textMessage, type CryptoTestClient } from './harness/e2ee.js';
import { useServer } from './harness/hooks.js';
import { login, paginateAll, registerUser } from './harness/http.js';
import { sleep, uniq } from './harness/util.js';

const PER_DIRECTION = 10;

describe('E2EE conversation with every device online', () => {
  const ctx = useServer();

  it('should decrypt every message on every device with zero decryption failures', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    const [alice2User, bob2User] = await Promise.all([login(ctx.server, aliceUser), login(ctx.server, bobUser)]);
    const devices: CryptoTestClient[] = await Promise.all(
      [aliceUser, alice2User, bobUser, bob2User].map((u) => startedCryptoClient(t, ctx.server, u)),
    );
    const [alice1, alice2, bob1, bob2] = devices as [CryptoTestClient, CryptoTestClient, CryptoTestClient, CryptoTestClient];
    const roomId = await createEncryptedRoom(alice1, [alice2, bob1, bob2]);

    // Alternate between the two people and between their devices, as a chat goes; each
    // message is sent as soon as the previous one is acknowledged by the server.
    const sent: { eventId: string; body: string; from: string }[] = [];
    const senders = [alice1, bob1, alice2, bob2];
    for (let i = 0; i < 2 * PER_DIRECTION; i++) {
      const from = senders[i % senders.length] as CryptoTestClient;
      const body = `msg-${i}-${from.user.localpart}-${uniq()}`;
      const { event_id: eventId } = await from.client.sendMessage(roomId, textMessage(body));
      sent.push({ eventId, body, from: `${from.user.localpart}/${from.user.deviceId}` });
      if (i % 3 === 2) await sleep(100);
    }

    // The server keeps them in the order they were acknowledged. (A sender's own client shows its
    // local echo where it sent it, which may be before a message it had not yet received.)
    const { events } = await paginateAll(ctx.server, aliceUser, roomId, 'b');
    const order = events.filter((e) => e.type === 'm.room.encrypted').map((e) => e.event_id).reverse();
    assert.deepEqual(order, sent.map((s) => s.eventId), 'the room history holds the 20 encrypted events in the order they were sent');

    // Every device reads all 20.
    for (const device of devices) {
      const who = `${device.user.localpart}/${device.user.deviceId}`;
      await device.waitFor(
        `all ${sent.length} messages to decrypt on ${who}`,
        () => {
          const room = device.client.getRoom(roomId);
          return room !== null && sent.every(({ eventId }) => {
            const ev = room.findEventById(eventId);
            return ev !== undefined && decryptedBody(ev) !== undefined;
          });
        },
        E2E_WAIT_MS,
      ).catch((err: Error) => {
        const room = device.client.getRoom(roomId);
        const missing = sent
          .filter(({ eventId }) => {
            const ev = room?.findEventById(eventId);
            return ev === undefined || decryptedBody(ev) === undefined;
          })
          .map(({ eventId, from }) => {
            const ev = room?.findEventById(eventId);
            return `${eventId} from ${from}: ${ev === undefined ? 'never arrived' : `not decrypted (${ev.decryptionFailureReason ?? 'pending'})`}`;
          });
        throw new Error(`${err.message}\n${missing.join('\n')}`);
      });
    }

    const failures = devices.flatMap((d) =>
      d.decryptionFailures.filter((f) => f.roomId === roomId).map((f) => `${d.user.localpart}/${d.user.deviceId}: ${f.eventId} ${f.reason}`),
    );
    assert.deepEqual(failures, [], 'no device saw "unable to decrypt", even briefly, for a message sent while it was online');
  });
});
