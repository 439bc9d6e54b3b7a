// Cross-signing and interactive (SAS emoji) verification between two of Alice's devices,
// carried entirely by to-device messages through the server; Bob then sees both of her
// devices as signed by her. matrix-js-sdk with the Rust crypto, real server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEncryptedRoom,
  cryptoApi,
  E2E_WAIT_MS,
  passwordUia,
  startedCryptoClient,
  textMessage,
  waitForDecrypted,
  type CryptoTestClient,
} from './harness/e2ee.js';
import { useServer } from './harness/hooks.js';
import { expectOk, login, rawRequest, registerUser } from './harness/http.js';
import { uniq, waitUntil, withTimeout } from './harness/util.js';

const { CryptoEvent, VerificationPhase, VerifierEvent } = cryptoApi;
type VerificationRequest = import('matrix-js-sdk/lib/crypto-api/index.js').VerificationRequest;
type Verifier = import('matrix-js-sdk/lib/crypto-api/index.js').Verifier;
type ShowSasCallbacks = import('matrix-js-sdk/lib/crypto-api/index.js').ShowSasCallbacks;

const phaseName = (p: number): string => VerificationPhase[p] ?? String(p);

async function waitForPhase(who: CryptoTestClient, req: VerificationRequest, phase: number, what: string): Promise<void> {
  await waitUntil(
    () => {
      if (req.phase === VerificationPhase.Cancelled && phase !== VerificationPhase.Cancelled) {
        throw new Error(`${who.user.deviceId}: verification cancelled (${req.cancellationCode ?? '?'} by ${req.cancellingUserId ?? '?'}) while waiting for ${what}`);
      }
      return req.phase === phase;
    },
    E2E_WAIT_MS,
    `${who.user.deviceId}'s verification request to reach phase ${phaseName(phase)} (${what}); it is ${phaseName(req.phase)}`,
    25,
  );
}

/** The SAS a verifier shows, whether it was emitted before or after we asked. */
function sasOf(verifier: Verifier): Promise<ShowSasCallbacks> {
  const shown = verifier.getShowSasCallbacks();
  if (shown !== null) return Promise.resolve(shown);
  return new Promise((resolve) => verifier.once(VerifierEvent.ShowSas, resolve));
}

describe('E2EE cross-signing and SAS verification', () => {
  const ctx = useServer();

  it('should verify Alice’s second device with SAS emoji over to-device messages so that Bob sees both devices cross-signed', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const bobUser = await registerUser(ctx.server, uniq('bob'));
    const alice1 = await startedCryptoClient(t, ctx.server, aliceUser);
    const bob = await startedCryptoClient(t, ctx.server, bobUser);
    // Sharing a room is what makes Bob's client track Alice's keys (device_lists in /sync).
    const roomId = await createEncryptedRoom(alice1, [bob]);

    // 1. Alice's first device sets up cross-signing; the key upload asks for her password.
    const uia = passwordUia(aliceUser);
    await withTimeout(
      alice1.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uia.callback, setupNewCrossSigning: true }),
      E2E_WAIT_MS,
      'bootstrapCrossSigning on Alice’s first device',
    );
    assert.equal(await alice1.crypto.isCrossSigningReady(), true, 'cross-signing is ready on the device that set it up');
    const published = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/keys/query', { token: bobUser.accessToken, body: { device_keys: { [aliceUser.userId]: [] } } }),
      'keys/query',
    );
    assert.ok(published.master_keys?.[aliceUser.userId], `/keys/query shows Alice’s master key to Bob: ${JSON.stringify(published)}`);
    assert.ok(published.self_signing_keys?.[aliceUser.userId], 'and her self-signing key');
    assert.equal(published.user_signing_keys?.[aliceUser.userId], undefined, 'but not her user-signing key (only she may see it)');

    // The first upload needs no password: there was no master key to replace (spec: UIA is
    // required except for a user's first master key or an identical re-upload).
    assert.equal(uia.challenges, 0, 'no UIA challenge for the first upload of cross-signing keys');

    await waitUntil(
      async () => (await bob.crypto.getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId))?.signedByOwner,
      E2E_WAIT_MS,
      'Bob’s client to see Alice’s first device signed by her self-signing key (signing_key update → device_lists.changed)',
    );

    // 2. Alice logs in on a second device; it knows her identity but is not signed by it yet.
    const alice2User = await login(ctx.server, aliceUser);
    const alice2 = await startedCryptoClient(t, ctx.server, alice2User);
    await waitUntil(
      async () => (await alice2.crypto.getUserDeviceInfo([aliceUser.userId], true)).get(aliceUser.userId)?.has(aliceUser.deviceId),
      E2E_WAIT_MS,
      'the second device to know the first',
    );
    await waitUntil(
      async () => (await alice1.knownDevices(aliceUser.userId)).has(alice2User.deviceId),
      E2E_WAIT_MS,
      'the first device to learn of the second (its own user in device_lists.changed)',
    );
    const unsigned = await bob.crypto.getUserDeviceInfo([aliceUser.userId], true);
    assert.ok(unsigned.get(aliceUser.userId)?.has(alice2User.deviceId), 'Bob’s client knows the new device');
    assert.equal((await bob.crypto.getDeviceVerificationStatus(aliceUser.userId, alice2User.deviceId))?.signedByOwner, false, 'not yet cross-signed');

    // 3. The new device asks to be verified; the other one sees the request, as Element shows it.
    const incoming = new Promise<VerificationRequest>((resolve) => alice1.client.on(CryptoEvent.VerificationRequestReceived, resolve));
    const req2 = await withTimeout(alice2.crypto.requestOwnUserVerification(), E2E_WAIT_MS, 'requestOwnUserVerification on the second device');
    const req1 = await withTimeout(incoming, E2E_WAIT_MS, 'the first device to receive m.key.verification.request (to-device)');
    assert.equal(req1.otherUserId, aliceUser.userId);
    assert.equal(req1.otherDeviceId, alice2User.deviceId, 'the request names the device that asked');
    assert.ok(req1.isSelfVerification);

    await req1.accept();
    await waitForPhase(alice2, req2, VerificationPhase.Ready, 'm.key.verification.ready from the first device');
    assert.ok(req2.otherPartySupportsMethod('m.sas.v1'), 'the first device offers SAS');

    // 4. SAS: both sides show the same emoji and the user confirms on both.
    const verifier2 = await req2.startVerification('m.sas.v1');
    await waitForPhase(alice1, req1, VerificationPhase.Started, 'm.key.verification.start');
    const verifier1 = req1.verifier;
    assert.ok(verifier1, 'the first device has a verifier once SAS started');
    const done1 = verifier1.verify();
    const done2 = verifier2.verify();
    const [sas1, sas2] = await withTimeout(Promise.all([sasOf(verifier1), sasOf(verifier2)]), E2E_WAIT_MS, 'both devices to show the SAS (accept/key exchange)');
    const emoji1 = sas1.sas.emoji?.map(([, name]) => name);
    const emoji2 = sas2.sas.emoji?.map(([, name]) => name);
    assert.equal(emoji1?.length, 7, 'seven emoji to compare');
    assert.deepEqual(emoji1, emoji2, 'both devices show the same emoji');
    await Promise.all([sas1.confirm(), sas2.confirm()]);
    await withTimeout(Promise.all([done1, done2]), E2E_WAIT_MS, 'both verifiers to finish (m.key.verification.mac and .done)');
    await waitForPhase(alice1, req1, VerificationPhase.Done, 'done');
    await waitForPhase(alice2, req2, VerificationPhase.Done, 'done');

    // 5. Each device now trusts the other; the first device has signed the second.
    assert.equal((await alice1.crypto.getDeviceVerificationStatus(aliceUser.userId, alice2User.deviceId))?.isVerified(), true, 'the first device trusts the second');
    await waitUntil(
      async () => (await alice2.crypto.getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId))?.isVerified(),
      E2E_WAIT_MS,
      'the second device to trust the first',
    );
    await waitUntil(
      async () => (await alice2.crypto.getCrossSigningStatus()).privateKeysCachedLocally.selfSigningKey,
      E2E_WAIT_MS,
      'the second device to receive the cross-signing secrets from the first (m.secret.request / m.secret.send to-device)',
    );

    // 6. Bob sees both of Alice's devices as cross-signed by her.
    for (const deviceId of [aliceUser.deviceId, alice2User.deviceId]) {
      await waitUntil(
        async () => (await bob.crypto.getDeviceVerificationStatus(aliceUser.userId, deviceId))?.signedByOwner,
        E2E_WAIT_MS,
        `Bob’s client to see Alice’s device ${deviceId} signed by her (POST /keys/signatures/upload → /keys/query)`,
      );
    }
    const query = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/keys/query', { token: bobUser.accessToken, body: { device_keys: { [aliceUser.userId]: [] } } }),
      'keys/query',
    );
    const sskId = Object.keys(query.self_signing_keys[aliceUser.userId].keys)[0] as string;
    const sigs = query.device_keys[aliceUser.userId][alice2User.deviceId].signatures[aliceUser.userId];
    assert.equal(typeof sigs[sskId], 'string', `the second device’s keys carry a signature by ${sskId}: ${JSON.stringify(sigs)}`);

    // And encryption still works with the verified device in the room.
    const body = `after-verification-${uniq()}`;
    await bob.client.sendMessage(roomId, textMessage(body));
    await waitForDecrypted(alice2, roomId, body);
    await waitForDecrypted(alice1, roomId, body);
  });

  it('should ask for the password (UIA m.login.password) when Alice resets her cross-signing keys', async (t) => {
    const aliceUser = await registerUser(ctx.server, uniq('alice'));
    const alice = await startedCryptoClient(t, ctx.server, aliceUser);
    const uia = passwordUia(aliceUser);
    const masterOnServer = async (): Promise<unknown> =>
      expectOk(
        await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/keys/query', { token: aliceUser.accessToken, body: { device_keys: { [aliceUser.userId]: [] } } }),
        'keys/query',
      ).master_keys?.[aliceUser.userId];

    await withTimeout(alice.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uia.callback }), E2E_WAIT_MS, 'first bootstrapCrossSigning');
    const first = await masterOnServer();
    assert.ok(first, 'the master key is published');
    assert.equal(uia.challenges, 0, 'the first upload is not challenged');

    // "Reset cross-signing" in Element: new keys replace the old identity, so the server must
    // challenge with a UIA session offering m.login.password, and accept the password.
    await withTimeout(
      alice.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uia.callback, setupNewCrossSigning: true }),
      E2E_WAIT_MS,
      'bootstrapCrossSigning({ setupNewCrossSigning: true })',
    );
    assert.equal(uia.challenges, 1, 'replacing the master key was challenged once (401 with a session), then accepted with the password');
    const second = await masterOnServer();
    assert.ok(second, 'a master key is still published');
    assert.notDeepEqual(second, first, 'the new master key replaced the old one');

    // Without the password the server refuses (and keeps the current keys).
    const replace = await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/keys/device_signing/upload', {
      token: aliceUser.accessToken,
      body: { master_key: { user_id: aliceUser.userId, usage: ['master'], keys: { 'ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } } },
    });
    assert.equal(replace.status, 401, `replacing the master key without auth is challenged: HTTP ${replace.status} ${replace.text}`);
    assert.ok(typeof replace.json?.session === 'string' && Array.isArray(replace.json?.flows), 'with a UIA session and flows');
    assert.deepEqual(await masterOnServer(), second, 'and nothing changed');
  });
});
