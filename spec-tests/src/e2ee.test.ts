// End-to-end encryption with two matrix-js-sdk clients running the Rust crypto:
// the server carries keys and ciphertext, and never holds a plaintext.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeClient, sdk, type MatrixEvent, type TestClient } from './harness/client.js';
import { useServer } from './harness/hooks.js';
import { expectOk, paginateAll, rawRequest, registerUser, sendText, type User } from './harness/http.js';
import { uniq, waitUntil } from './harness/util.js';

const { MsgType, Preset } = sdk;
const E2E_WAIT_MS = 30_000;

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push(readFileSync(path));
  }
  return out;
}

const decryptedBody = (ev: MatrixEvent): unknown => (ev.isEncrypted() && ev.getType() === 'm.room.message' ? ev.getContent().body : undefined);

describe('end-to-end encryption between two matrix-js-sdk clients', () => {
  const ctx = useServer();
  let aliceUser: User;
  let bobUser: User;
  let alice: TestClient;
  let bob: TestClient;
  let roomId = '';
  // Random markers: if they show up anywhere on the server, the server saw the plaintext.
  const fromAlice = `alice-secret-${uniq()}`;
  const fromBob = `bob-secret-${uniq()}`;

  before(async () => {
    aliceUser = await registerUser(ctx.server, uniq('alice'));
    bobUser = await registerUser(ctx.server, uniq('bob'));
    alice = makeClient(ctx.server, aliceUser);
    bob = makeClient(ctx.server, bobUser);
    // In Node the crypto store lives in memory (there is no IndexedDB).
    await Promise.all([alice.client.initRustCrypto({ useIndexedDB: false }), bob.client.initRustCrypto({ useIndexedDB: false })]);
    await Promise.all([alice.start(), bob.start()]);
  });
  after(() => {
    alice?.stop();
    bob?.stop();
  });

  it('should publish each device’s keys so that the other user sees them', async () => {
    // The client uploads its keys shortly after starting.
    const keys = await waitUntil(
      async () => {
        const res = await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/keys/query', {
          token: bobUser.accessToken,
          body: { device_keys: { [aliceUser.userId]: [] } },
        });
        return expectOk(res, 'keys/query').device_keys?.[aliceUser.userId]?.[aliceUser.deviceId];
      },
      E2E_WAIT_MS,
      'Alice’s device keys to be published',
    );
    assert.equal(keys.user_id, aliceUser.userId);
    assert.equal(typeof keys.keys[`ed25519:${aliceUser.deviceId}`], 'string');
  });

  it('should let Alice and Bob exchange messages in an encrypted room that decrypt both ways', async () => {
    const created = await alice.client.createRoom({
      preset: Preset.PrivateChat,
      invite: [bobUser.userId],
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    roomId = created.room_id;
    await bob.waitForRoom(roomId, 'Bob to see the invite', (r) => r.getMyMembership() === 'invite');
    await bob.client.joinRoom(roomId);
    await alice.waitForRoom(roomId, 'Alice to see Bob joined', (r) => r.getMember(bobUser.userId)?.membership === 'join');
    await bob.waitForRoom(roomId, 'Bob to see the room is encrypted', (r) => r.currentState.getStateEvents('m.room.encryption', '') !== null);

    await alice.client.sendMessage(roomId, { msgtype: MsgType.Text, body: fromAlice });
    const atBob = await bob.waitForEvent(roomId, 'Bob to decrypt Alice’s message', (e) => decryptedBody(e) === fromAlice, E2E_WAIT_MS);
    assert.equal(atBob.getSender(), aliceUser.userId);
    assert.equal(atBob.getWireType(), 'm.room.encrypted');

    await bob.client.sendMessage(roomId, { msgtype: MsgType.Text, body: fromBob });
    const atAlice = await alice.waitForEvent(roomId, 'Alice to decrypt Bob’s reply', (e) => decryptedBody(e) === fromBob, E2E_WAIT_MS);
    assert.equal(atAlice.getSender(), bobUser.userId);
  });

  it('should store only m.room.encrypted events and no plaintext anywhere in the data directory', async () => {
    assert.ok(roomId, 'needs the room from the previous test');
    const { events } = await paginateAll(ctx.server, aliceUser, roomId, 'b');
    const sent = events.filter((e) => e.sender !== undefined && (e.type === 'm.room.message' || e.type === 'm.room.encrypted'));
    assert.ok(sent.length >= 2, 'both messages are in the room history');
    for (const e of sent) {
      assert.equal(e.type, 'm.room.encrypted', 'history holds ciphertext only');
      assert.equal(e.content.algorithm, 'm.megolm.v1.aes-sha2');
      assert.equal(typeof e.content.ciphertext, 'string');
    }
    assert.ok(!JSON.stringify(events).includes(fromAlice) && !JSON.stringify(events).includes(fromBob));

    // A control: a plaintext message in an unencrypted room must be visible to the same scan.
    const control = `control-plaintext-${uniq()}`;
    const open = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/createRoom', { token: aliceUser.accessToken, body: { preset: 'private_chat' } }),
      'create an unencrypted room',
    ).room_id as string;
    await sendText(ctx.server, aliceUser, open, control);

    const stop = await ctx.server.stop();
    assert.equal(stop.code, 0, 'clean stop so that every write is in the files');
    const blobs = filesUnder(ctx.server.dataDir);
    const found = (s: string) => blobs.some((b) => b.includes(Buffer.from(s, 'utf8')));
    assert.ok(found(control), 'the scan sees plaintext that the server was given');
    assert.ok(!found(fromAlice), 'Alice’s message is nowhere in the data directory');
    assert.ok(!found(fromBob), 'Bob’s message is nowhere in the data directory');
    await ctx.server.restart();
  });
});
