// Bad input to the key server, black-box: a real Parley process, raw HTTP, real ed25519 keys
// (node:crypto) signing canonical JSON. Each bad request must get the error the spec (or, where
// the spec names none, Synapse) gives, and must change nothing: /keys/query, /keys/claim,
// /room_keys and the recipient's /sync show the state from before the request.
//
// Where the spec is silent on the error code (keys.yaml lists no errors for /keys/upload), the
// test asserts the code Parley documents in e2ee/src/errors.ts and e2ee/src/deviceKeys.ts:
//   bad or missing self-signature           400 M_INVALID_SIGNATURE
//   device_keys.user_id of another user     403 M_FORBIDDEN
//   device_keys.device_id of another device 400 M_INVALID_PARAM
//   a one-time key ID reused with new content 400 M_UNKNOWN (Synapse's "One time key … already exists")
// cross_signing.yaml: a signature that does not verify is a 200 with failures[user][key].errcode
// M_INVALID_SIGNATURE. Common errors: a body missing a required key or with a wrongly typed value
// is 400 M_BAD_JSON (key_backup_data.yaml requires all four fields of a backed-up session).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { generateSigningKey, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { computeSignature } from '@parley/federation/signing/signJson';
import { useServer } from './harness/hooks.js';
import { describeResponse, enc, expectError, expectOk, login, rawRequest, registerUser, sync, txnId, type HasBaseUrl, type Json, type User } from './harness/http.js';
import { uniq } from './harness/util.js';

type Signatures = Record<string, Record<string, string>>;
type Signed = Record<string, unknown> & { signatures?: Signatures };

const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const curve25519 = (): string => b64(randomBytes(32));

/** `obj` with one more signature by `userId`/`keyId`, made with `key` over the canonical JSON. */
function sign<T extends Signed>(obj: T, userId: string, keyId: string, key: SigningKey): T & { signatures: Signatures } {
  const sig = computeSignature(obj as unknown as JsonObjectLike, key);
  const sigs: Signatures = {};
  for (const [u, byKey] of Object.entries(obj.signatures ?? {})) sigs[u] = { ...byKey };
  (sigs[userId] ??= {})[keyId] = sig;
  return { ...obj, signatures: sigs };
}

/** A device's identity: its ed25519 key, and its device_keys as the spec's DeviceKeys object. */
interface Identity {
  ed: SigningKey;
  /** Unsigned device_keys (no `signatures`). */
  body: Record<string, unknown>;
  /** Self-signed with `ed`. */
  signed: Signed & { signatures: Signatures };
}

function identity(userId: string, deviceId: string): Identity {
  const ed = generateSigningKey();
  const body = {
    user_id: userId,
    device_id: deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: { [`curve25519:${deviceId}`]: curve25519(), [`ed25519:${deviceId}`]: ed.publicKeyBase64 },
  };
  return { ed, body, signed: sign(body, userId, `ed25519:${deviceId}`, ed) };
}

/** A signed_curve25519 one-time key object signed by the device. */
function signedOtk(user: User, ed: SigningKey, key = curve25519()): Signed {
  return sign({ key }, user.userId, `ed25519:${user.deviceId}`, ed);
}

const post = (server: HasBaseUrl, user: User, path: string, body: unknown) =>
  rawRequest(server, 'POST', `/_matrix/client/v3${path}`, { token: user.accessToken, body });

async function upload(server: HasBaseUrl, user: User, body: unknown) {
  return post(server, user, '/keys/upload', body);
}

/** The device_keys of `userId` as `asUser` sees them in /keys/query (all devices). */
async function queryDevices(server: HasBaseUrl, asUser: User, userId: string): Promise<Record<string, Json>> {
  const res = await post(server, asUser, '/keys/query', { device_keys: { [userId]: [] } });
  return expectOk(res, `keys/query for ${userId} as ${asUser.userId}`).device_keys?.[userId] ?? {};
}

async function queryAll(server: HasBaseUrl, asUser: User, userId: string): Promise<Json> {
  const res = await post(server, asUser, '/keys/query', { device_keys: { [userId]: [] } });
  return expectOk(res, `keys/query for ${userId} as ${asUser.userId}`);
}

/** A stored object without what the server may add (`unsigned`: the device display name). */
function withoutUnsigned(obj: Json): Json {
  if (obj === undefined) return undefined;
  const { unsigned: _unsigned, ...rest } = obj;
  return rest;
}

async function otkCounts(server: HasBaseUrl, user: User): Promise<Record<string, number>> {
  return expectOk(await upload(server, user, {}), 'keys/upload {} (read the one-time key counts)').one_time_key_counts;
}

/** Upload cross-signing keys, completing user-interactive auth with the password if asked. */
async function uploadCrossSigning(server: HasBaseUrl, user: User, keys: Record<string, unknown>): Promise<void> {
  const first = await post(server, user, '/keys/device_signing/upload', keys);
  if (first.status === 200) return;
  assert.equal(first.status, 401, `device_signing/upload: expected 200 or a 401 UIA challenge, got ${describeResponse(first)}`);
  const second = await post(server, user, '/keys/device_signing/upload', {
    ...keys,
    auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: user.password, session: first.json.session },
  });
  expectOk(second, 'device_signing/upload with m.login.password');
}

interface CrossSigning {
  master: SigningKey;
  selfSigning: SigningKey;
  userSigning: SigningKey;
  masterKey: Signed;
}

function csKey(userId: string, usage: string, key: SigningKey): Signed {
  return { user_id: userId, usage: [usage], keys: { [`ed25519:${key.publicKeyBase64}`]: key.publicKeyBase64 } };
}

async function bootstrapCrossSigning(server: HasBaseUrl, user: User): Promise<CrossSigning> {
  const master = generateSigningKey();
  const selfSigning = generateSigningKey();
  const userSigning = generateSigningKey();
  const masterId = `ed25519:${master.publicKeyBase64}`;
  const masterKey = csKey(user.userId, 'master', master);
  await uploadCrossSigning(server, user, {
    master_key: masterKey,
    self_signing_key: sign(csKey(user.userId, 'self_signing', selfSigning), user.userId, masterId, master),
    user_signing_key: sign(csKey(user.userId, 'user_signing', userSigning), user.userId, masterId, master),
  });
  return { master, selfSigning, userSigning, masterKey };
}

/** Messages already queued for `user`'s device are taken and acknowledged; returns the next since token. */
async function drainToDevice(server: HasBaseUrl, user: User): Promise<string> {
  let since = (await sync(server, user, { timeout: 0 })).next_batch as string;
  // The next sync acknowledges what the first delivered.
  since = (await sync(server, user, { since, timeout: 0 })).next_batch;
  return since;
}

async function sendToDevice(server: HasBaseUrl, user: User, type: string, messages: unknown, txn = txnId()) {
  return rawRequest(server, 'PUT', `/_matrix/client/v3/sendToDevice/${enc(type)}/${enc(txn)}`, { token: user.accessToken, body: { messages } });
}

describe('E2EE bad input: each request gets the spec’s error and changes nothing', () => {
  const ctx = useServer();

  it('should refuse device keys whose self-signature does not verify, keeping the stored keys', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const good = identity(alice.userId, alice.deviceId);

    // Signed by some other ed25519 key under the device's key ID.
    const forged = sign(good.body, alice.userId, `ed25519:${alice.deviceId}`, generateSigningKey());
    expectError(await upload(ctx.server, alice, { device_keys: forged }), 400, 'M_INVALID_SIGNATURE', 'device keys signed by the wrong key');
    // Signed by the right key, then altered: the signature no longer covers the content.
    const tampered = { ...good.signed, algorithms: ['m.olm.v1.curve25519-aes-sha2'] };
    expectError(await upload(ctx.server, alice, { device_keys: tampered }), 400, 'M_INVALID_SIGNATURE', 'device keys altered after signing');
    // A signature that is not even base64 of 64 bytes.
    const garbage = { ...good.body, signatures: { [alice.userId]: { [`ed25519:${alice.deviceId}`]: 'not-a-signature' } } };
    expectError(await upload(ctx.server, alice, { device_keys: garbage }), 400, 'M_INVALID_SIGNATURE', 'device keys with a garbage signature');
    assert.equal((await queryDevices(ctx.server, bob, alice.userId))[alice.deviceId], undefined, 'refused device keys must not be published');

    // With the refused keys came one-time keys: none of them may have been stored either.
    const withOtk = { device_keys: forged, one_time_keys: { 'signed_curve25519:AAAAAQ': signedOtk(alice, good.ed) } };
    expectError(await upload(ctx.server, alice, withOtk), 400, 'M_INVALID_SIGNATURE', 'forged device keys with a one-time key');
    assert.equal((await otkCounts(ctx.server, alice)).signed_curve25519 ?? 0, 0, 'no one-time key may be stored from a refused upload');

    // The real keys go in; a later upload of other keys with a bad signature changes nothing.
    expectOk(await upload(ctx.server, alice, { device_keys: good.signed }), 'upload the correctly self-signed device keys');
    const before = await queryDevices(ctx.server, bob, alice.userId);
    assert.deepEqual(withoutUnsigned(before[alice.deviceId]), good.signed, 'the uploaded device keys are served as uploaded');
    const other = identity(alice.userId, alice.deviceId);
    const otherForged = sign(other.body, alice.userId, `ed25519:${alice.deviceId}`, good.ed);
    expectError(await upload(ctx.server, alice, { device_keys: otherForged }), 400, 'M_INVALID_SIGNATURE', 'replacement keys signed by a key they do not contain');
    assert.deepEqual(await queryDevices(ctx.server, bob, alice.userId), before, '/keys/query must show the earlier keys after a refused upload');

    // A one-time key whose signature does not verify is refused too, and not counted.
    const badOtk = sign({ key: curve25519() }, alice.userId, `ed25519:${alice.deviceId}`, generateSigningKey());
    expectError(
      await upload(ctx.server, alice, { one_time_keys: { 'signed_curve25519:AAAAAg': badOtk } }),
      400,
      'M_INVALID_SIGNATURE',
      'a one-time key signed by another key',
    );
    assert.equal((await otkCounts(ctx.server, alice)).signed_curve25519 ?? 0, 0, 'a refused one-time key must not be counted');
  });

  it('should refuse device keys without the device’s self-signature', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const id = identity(alice.userId, alice.deviceId);

    const cases: Array<[string, unknown]> = [
      ['an empty signatures object', { ...id.body, signatures: {} }],
      ['no signature by the user', { ...id.body, signatures: { [alice.userId]: {} } }],
      ['a signature by another user only', sign(id.body, bob.userId, `ed25519:${alice.deviceId}`, id.ed)],
      ['a signature under another key ID only', sign(id.body, alice.userId, 'ed25519:SOMEOTHERDEVICE', id.ed)],
    ];
    for (const [what, deviceKeys] of cases) {
      expectError(await upload(ctx.server, alice, { device_keys: deviceKeys }), 400, 'M_INVALID_SIGNATURE', `device keys with ${what}`);
    }
    // device_keys.yaml: `signatures` is required; a body without it is malformed.
    expectError(await upload(ctx.server, alice, { device_keys: id.body }), 400, 'M_BAD_JSON', 'device keys with no signatures field');
    assert.equal((await queryDevices(ctx.server, bob, alice.userId))[alice.deviceId], undefined, 'unsigned device keys must not be published');

    // The device can still publish properly signed keys afterwards, and an unsigned re-upload changes nothing.
    expectOk(await upload(ctx.server, alice, { device_keys: id.signed }), 'upload the self-signed device keys');
    const before = await queryDevices(ctx.server, bob, alice.userId);
    expectError(await upload(ctx.server, alice, { device_keys: { ...id.body, signatures: {} } }), 400, 'M_INVALID_SIGNATURE', 'the same keys, unsigned');
    assert.deepEqual(await queryDevices(ctx.server, bob, alice.userId), before, '/keys/query must be unchanged');
  });

  it('should refuse device keys uploaded for another user’s (or another) device', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const bobId = identity(bob.userId, bob.deviceId);
    expectOk(await upload(ctx.server, bob, { device_keys: bobId.signed }), 'Bob uploads his own device keys');
    const bobBefore = await queryDevices(ctx.server, alice, bob.userId);
    const aliceBefore = await queryDevices(ctx.server, bob, alice.userId);

    // Alice (her access token) uploads keys naming Bob's device, correctly self-signed by a key she holds.
    const impostor = identity(bob.userId, bob.deviceId);
    expectError(await upload(ctx.server, alice, { device_keys: impostor.signed }), 403, 'M_FORBIDDEN', 'Alice uploads keys for Bob’s device');
    // The same for a device of Bob's that has no keys yet.
    const bob2 = await login(ctx.server, bob);
    expectError(
      await upload(ctx.server, alice, { device_keys: identity(bob.userId, bob2.deviceId).signed }),
      403,
      'M_FORBIDDEN',
      'Alice uploads keys for Bob’s second device',
    );
    // Her own user ID with another device's ID (her second device's): not this access token's device.
    const alice2 = await login(ctx.server, alice);
    expectError(
      await upload(ctx.server, alice, { device_keys: identity(alice.userId, alice2.deviceId).signed }),
      400,
      'M_INVALID_PARAM',
      'Alice uploads keys for her other device with the first device’s token',
    );

    const bobAfter = await queryDevices(ctx.server, alice, bob.userId);
    assert.deepEqual(withoutUnsigned(bobAfter[bob.deviceId]), bobId.signed, 'Bob’s device keys must be the ones he uploaded');
    assert.deepEqual(bobAfter, bobBefore, 'Bob’s devices in /keys/query must be unchanged');
    assert.equal(bobAfter[bob2.deviceId], undefined, 'Bob’s second device must still have no keys');
    assert.deepEqual(await queryDevices(ctx.server, bob, alice.userId), aliceBefore, 'Alice’s devices in /keys/query must be unchanged');
  });

  it('should refuse a one-time key uploaded twice with different content, keeping the first', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const id = identity(alice.userId, alice.deviceId);
    const first = signedOtk(alice, id.ed);
    const res = await upload(ctx.server, alice, { device_keys: id.signed, one_time_keys: { 'signed_curve25519:AAAAAQ': first } });
    assert.equal(expectOk(res, 'upload device keys and a one-time key').one_time_key_counts.signed_curve25519, 1);
    // The same key again is a retry: accepted, still one key.
    const again = await upload(ctx.server, alice, { one_time_keys: { 'signed_curve25519:AAAAAQ': first } });
    assert.equal(expectOk(again, 're-upload the same one-time key').one_time_key_counts.signed_curve25519, 1);

    // The same key ID with another key (correctly signed): Synapse's 400 M_UNKNOWN "already exists".
    const different = signedOtk(alice, id.ed);
    expectError(
      await upload(ctx.server, alice, { one_time_keys: { 'signed_curve25519:AAAAAQ': different } }),
      400,
      'M_UNKNOWN',
      'a one-time key ID re-uploaded with other content',
    );
    // Alongside a fresh key: the whole upload is refused, so the fresh key is not stored either.
    expectError(
      await upload(ctx.server, alice, { one_time_keys: { 'signed_curve25519:AAAAAg': signedOtk(alice, id.ed), 'signed_curve25519:AAAAAQ': different } }),
      400,
      'M_UNKNOWN',
      'a fresh one-time key together with a conflicting one',
    );
    assert.equal((await otkCounts(ctx.server, alice)).signed_curve25519, 1, 'still exactly one one-time key');

    // /keys/claim hands out the first content, then there is nothing left.
    const claim = () => post(ctx.server, bob, '/keys/claim', { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } });
    const claimed = expectOk(await claim(), 'claim Alice’s one-time key').one_time_keys?.[alice.userId]?.[alice.deviceId];
    assert.deepEqual(claimed, { 'signed_curve25519:AAAAAQ': first }, 'the claimed key must be the one uploaded first');
    const none = expectOk(await claim(), 'claim again').one_time_keys?.[alice.userId]?.[alice.deviceId];
    assert.ok(none === undefined || Object.keys(none).length === 0, `no second key may be claimed: ${JSON.stringify(none)}`);
  });

  it('should report a cross-signing signature that does not verify as a failure and store nothing', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const aliceId = identity(alice.userId, alice.deviceId);
    expectOk(await upload(ctx.server, alice, { device_keys: aliceId.signed }), 'Alice uploads device keys');
    const aliceCs = await bootstrapCrossSigning(ctx.server, alice);
    const bobCs = await bootstrapCrossSigning(ctx.server, bob);
    const sskId = `ed25519:${aliceCs.selfSigning.publicKeyBase64}`;
    const uskId = `ed25519:${bobCs.userSigning.publicKeyBase64}`;
    const aliceMasterPub = aliceCs.master.publicKeyBase64;

    const beforeForAlice = await queryAll(ctx.server, alice, alice.userId);
    const beforeForBob = await queryAll(ctx.server, bob, alice.userId);
    const signatures = (res: Json) => expectOk(res, 'keys/signatures/upload').failures ?? {};

    // Alice's device "signed" by her self-signing key ID, but with another key.
    const forgedDeviceSig = sign(aliceId.signed, alice.userId, sskId, generateSigningKey());
    let failures = signatures(await post(ctx.server, alice, '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: forgedDeviceSig } }));
    assert.equal(failures[alice.userId]?.[alice.deviceId]?.errcode, 'M_INVALID_SIGNATURE', `forged self-signing signature: ${JSON.stringify(failures)}`);

    // Signed with the right key, but over other content than the stored device keys.
    const otherContent = sign({ ...aliceId.body, algorithms: ['m.megolm.v1.aes-sha2'] }, alice.userId, sskId, aliceCs.selfSigning);
    failures = signatures(await post(ctx.server, alice, '/keys/signatures/upload', { [alice.userId]: { [alice.deviceId]: otherContent } }));
    assert.equal(failures[alice.userId]?.[alice.deviceId]?.errcode, 'M_INVALID_SIGNATURE', `signature over other content: ${JSON.stringify(failures)}`);

    // Bob "signs" Alice's master key with his user-signing key ID and a wrong key.
    const forgedMasterSig = sign(aliceCs.masterKey, bob.userId, uskId, generateSigningKey());
    failures = signatures(await post(ctx.server, bob, '/keys/signatures/upload', { [alice.userId]: { [aliceMasterPub]: forgedMasterSig } }));
    assert.equal(failures[alice.userId]?.[aliceMasterPub]?.errcode, 'M_INVALID_SIGNATURE', `forged user-signing signature: ${JSON.stringify(failures)}`);

    // A bad signature next to a good one: only the bad one fails.
    const bobId = identity(bob.userId, bob.deviceId);
    expectOk(await upload(ctx.server, bob, { device_keys: bobId.signed }), 'Bob uploads device keys');
    const goodBobDevice = sign(bobId.signed, bob.userId, `ed25519:${bobCs.selfSigning.publicKeyBase64}`, bobCs.selfSigning);
    failures = signatures(
      await post(ctx.server, bob, '/keys/signatures/upload', {
        [bob.userId]: { [bob.deviceId]: goodBobDevice },
        [alice.userId]: { [aliceMasterPub]: forgedMasterSig },
      }),
    );
    assert.equal(failures[alice.userId]?.[aliceMasterPub]?.errcode, 'M_INVALID_SIGNATURE', `forged signature in a mixed upload: ${JSON.stringify(failures)}`);
    assert.equal(failures[bob.userId], undefined, `the valid signature must not fail: ${JSON.stringify(failures)}`);
    const bobDevice = (await queryDevices(ctx.server, alice, bob.userId))[bob.deviceId];
    assert.equal(bobDevice?.signatures?.[bob.userId]?.[`ed25519:${bobCs.selfSigning.publicKeyBase64}`], goodBobDevice.signatures[bob.userId]?.[`ed25519:${bobCs.selfSigning.publicKeyBase64}`], 'the valid signature is stored (control)');

    // None of the bad signatures is visible, to Alice or to Bob.
    assert.deepEqual(await queryAll(ctx.server, alice, alice.userId), beforeForAlice, 'Alice’s /keys/query of herself must be unchanged');
    assert.deepEqual(await queryAll(ctx.server, bob, alice.userId), beforeForBob, 'Bob’s /keys/query of Alice must be unchanged');
    const device = (await queryDevices(ctx.server, bob, alice.userId))[alice.deviceId];
    assert.deepEqual(Object.keys(device.signatures?.[alice.userId] ?? {}), [`ed25519:${alice.deviceId}`], 'Alice’s device carries only its self-signature');
    const master = (await queryAll(ctx.server, bob, alice.userId)).master_keys?.[alice.userId];
    assert.equal(master?.signatures?.[bob.userId], undefined, 'Alice’s master key carries no signature by Bob');
  });

  it('should accept sendToDevice for an unknown user as Synapse does, and deliver nothing', async () => {
    // to_device.yaml names no error; Synapse drops messages for unknown local users and devices
    // and answers 200 {} (Parley: e2ee/src/toDevice.ts). An invalid user ID is 400 M_INVALID_PARAM.
    const alice = await registerUser(ctx.server, uniq('alice'));
    const bob = await registerUser(ctx.server, uniq('bob'));
    const since = await drainToDevice(ctx.server, bob);
    const ghost = `@${uniq('nobody')}:${ctx.server.serverName}`;

    let res = await sendToDevice(ctx.server, alice, 'org.parley.test', { [ghost]: { '*': { n: 1 } } });
    assert.deepEqual(expectOk(res, 'sendToDevice to an unknown user (all devices)'), {});
    res = await sendToDevice(ctx.server, alice, 'org.parley.test', { [ghost]: { SOMEDEVICE: { n: 2 } } });
    assert.deepEqual(expectOk(res, 'sendToDevice to an unknown user’s device'), {});
    res = await sendToDevice(ctx.server, alice, 'org.parley.test', { [bob.userId]: { NOSUCHDEVICE: { n: 3 } } });
    assert.deepEqual(expectOk(res, 'sendToDevice to an unknown device of a known user'), {});
    // An invalid user ID makes the whole request bad: Bob's message in it is not delivered either.
    res = await sendToDevice(ctx.server, alice, 'org.parley.test', { 'not a user id': { X: { n: 4 } }, [bob.userId]: { [bob.deviceId]: { n: 5 } } });
    expectError(res, 400, 'M_INVALID_PARAM', 'sendToDevice with an invalid user ID');

    // A marker sent afterwards must be the only thing Bob's device receives.
    res = await sendToDevice(ctx.server, alice, 'org.parley.marker', { [bob.userId]: { [bob.deviceId]: { marker: true } } });
    expectOk(res, 'sendToDevice marker to Bob');
    const body = await sync(ctx.server, bob, { since, timeout: 10_000 });
    const events: Json[] = body.to_device?.events ?? [];
    assert.deepEqual(
      events.map((e) => ({ type: e.type, sender: e.sender, content: e.content })),
      [{ type: 'org.parley.marker', sender: alice.userId, content: { marker: true } }],
      `Bob's device must receive only the marker: ${JSON.stringify(events)}`,
    );
  });

  it('should refuse malformed key backup data with 400 M_BAD_JSON and keep the backup as it was', async () => {
    const alice = await registerUser(ctx.server, uniq('alice'));
    const created = await post(ctx.server, alice, '/room_keys/version', {
      algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2',
      auth_data: { public_key: curve25519(), signatures: {} },
    });
    const version: string = expectOk(created, 'create a backup version').version;
    const roomId = `!${uniq('room')}:${ctx.server.serverName}`;
    const session = (n: number) => ({
      first_message_index: n,
      forwarded_count: 0,
      is_verified: true,
      session_data: { ephemeral: curve25519(), ciphertext: b64(randomBytes(48)), mac: b64(randomBytes(8)) },
    });
    const q = `version=${enc(version)}`;
    const put = (path: string, body: unknown) => rawRequest(ctx.server, 'PUT', `/_matrix/client/v3/room_keys/keys${path}?${q}`, { token: alice.accessToken, body });
    const get = async (what: string) => ({
      keys: expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/room_keys/keys?${q}`, { token: alice.accessToken }), `${what}: GET keys`),
      version: expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/room_keys/version/${enc(version)}`, { token: alice.accessToken }), `${what}: GET version`),
    });

    const stored = session(0);
    expectOk(await put('', { rooms: { [roomId]: { sessions: { S1: stored } } } }), 'back up one session');
    const before = await get('before');
    assert.deepEqual(before.keys, { rooms: { [roomId]: { sessions: { S1: stored } } } });
    assert.equal(before.version.count, 1);

    const { first_message_index: _f, ...noIndex } = session(0);
    const { session_data: _s, ...noData } = session(0);
    const { is_verified: _v, ...noVerified } = session(0);
    const { forwarded_count: _c, ...noForwarded } = session(0);
    const malformed: Array<[string, unknown]> = [
      ['a session without first_message_index', noIndex],
      ['a session without session_data', noData],
      ['a session without is_verified', noVerified],
      ['a session without forwarded_count', noForwarded],
      ['a string first_message_index', { ...session(0), first_message_index: '0' }],
      ['a negative first_message_index', { ...session(0), first_message_index: -1 }],
      ['a non-boolean is_verified', { ...session(0), is_verified: 'yes' }],
      ['a string session_data', { ...session(0), session_data: 'opaque' }],
    ];
    for (const [what, bad] of malformed) {
      // All rooms; the replacement of the stored session (a better first_message_index would win) …
      expectError(await put('', { rooms: { [roomId]: { sessions: { S1: { ...(bad as object) } } } } }), 400, 'M_BAD_JSON', `PUT /room_keys/keys with ${what}`);
      // … next to a valid new session: the whole request is refused.
      expectError(
        await put('', { rooms: { [roomId]: { sessions: { S2: session(0), S3: bad } } } }),
        400,
        'M_BAD_JSON',
        `PUT /room_keys/keys with ${what} next to a valid session`,
      );
      expectError(await put(`/${enc(roomId)}`, { sessions: { S2: bad } }), 400, 'M_BAD_JSON', `PUT /room_keys/keys/{roomId} with ${what}`);
      expectError(await put(`/${enc(roomId)}/S2`, bad), 400, 'M_BAD_JSON', `PUT /room_keys/keys/{roomId}/{sessionId} with ${what}`);
    }
    // The containers themselves malformed.
    expectError(await put('', {}), 400, 'M_BAD_JSON', 'PUT /room_keys/keys without rooms');
    expectError(await put('', { rooms: { [roomId]: {} } }), 400, 'M_BAD_JSON', 'PUT /room_keys/keys with a room without sessions');
    expectError(await put('', { rooms: { [roomId]: { sessions: [session(0)] } } }), 400, 'M_BAD_JSON', 'PUT /room_keys/keys with sessions as an array');
    expectError(await put(`/${enc(roomId)}`, { sessions: 'none' }), 400, 'M_BAD_JSON', 'PUT /room_keys/keys/{roomId} with a string sessions');

    const after = await get('after');
    assert.deepEqual(after.keys, before.keys, 'the backed-up keys must be unchanged');
    assert.equal(after.version.count, before.version.count, 'count must be unchanged');
    assert.equal(after.version.etag, before.version.etag, 'etag must be unchanged: no write happened');
  });
});
