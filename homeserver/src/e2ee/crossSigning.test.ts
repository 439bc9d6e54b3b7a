// Cross-signing keys and signature uploads through the key server on a real database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCrossSigningKey, rejectsWith, withE2ee, type FakeDevice, type Kit } from './testKit.js';

/** Upload device keys and a full set of cross-signing keys for `d`. */
async function setUp(k: Kit, d: FakeDevice) {
  const master = new FakeCrossSigningKey();
  const selfSigning = new FakeCrossSigningKey();
  const userSigning = new FakeCrossSigningKey();
  await k.e2ee.service.keys.upload(d.userId, d.deviceId, { device_keys: d.deviceKeys() });
  const body = {
    master_key: master.object(d.userId, 'master'),
    self_signing_key: selfSigning.object(d.userId, 'self_signing', master),
    user_signing_key: userSigning.object(d.userId, 'user_signing', master),
  };
  await k.e2ee.service.crossSigning.upload(d.userId, body);
  return { master, selfSigning, userSigning, body };
}

describe('cross-signing keys', () => {
  it('it should ask for authentication only when keys would be replaced', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const cs = k.e2ee.service.crossSigning;
      const master = new FakeCrossSigningKey();
      const first = { master_key: master.object(alice.userId, 'master') };
      assert.equal(await cs.uploadNeedsAuth(alice.userId, first), false, 'first upload');
      await cs.upload(alice.userId, first);
      assert.equal(await cs.uploadNeedsAuth(alice.userId, first), false, 'the same keys again');
      assert.equal(await cs.uploadNeedsAuth(alice.userId, { master_key: new FakeCrossSigningKey().object(alice.userId, 'master') }), true);
      const ssk = new FakeCrossSigningKey().object(alice.userId, 'self_signing', master);
      assert.equal(await cs.uploadNeedsAuth(alice.userId, { self_signing_key: ssk }), true, 'a new key beside the master');
    });
  });

  it('it should show the user-signing key to its owner only', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const { body } = await setUp(k, alice);
      const own = await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [] });
      assert.deepEqual(own.master_keys[alice.userId], body.master_key);
      assert.deepEqual(own.self_signing_keys[alice.userId], body.self_signing_key);
      assert.deepEqual(own.user_signing_keys[alice.userId], body.user_signing_key);
      const theirs = await k.e2ee.service.keys.query(bob.userId, { [alice.userId]: [] });
      assert.deepEqual(theirs.master_keys[alice.userId], body.master_key);
      assert.deepEqual(theirs.self_signing_keys[alice.userId], body.self_signing_key);
      assert.deepEqual(theirs.user_signing_keys, {});
    });
  });

  it('it should refuse a self-signing key that the master key did not sign', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const cs = k.e2ee.service.crossSigning;
      const orphan = new FakeCrossSigningKey().object(alice.userId, 'self_signing', new FakeCrossSigningKey());
      await rejectsWith(cs.upload(alice.userId, { self_signing_key: orphan }), 'M_MISSING_PARAM', 400);
      const master = new FakeCrossSigningKey();
      await rejectsWith(cs.upload(alice.userId, { master_key: master.object(alice.userId, 'master'), self_signing_key: orphan }), 'M_INVALID_SIGNATURE', 400);
      const q = await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [] });
      assert.deepEqual(q.master_keys, {}, 'nothing of the refused upload stored');
    });
  });

  it('it should refuse a key whose public key is a device ID', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const master = new FakeCrossSigningKey();
      // Key IDs and device IDs share one namespace: a device named like the key blocks it.
      await k.accounts.accounts.newSession(alice.userId, { deviceId: master.publicKey });
      await rejectsWith(k.e2ee.service.crossSigning.upload(alice.userId, { master_key: master.object(alice.userId, 'master') }), 'M_FORBIDDEN', 403);
      const q = await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [] });
      assert.deepEqual(q.master_keys, {});
    });
  });
});

describe('signature uploads', () => {
  it('it should publish a valid self-signing signature on a device to everyone', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const { selfSigning } = await setUp(k, alice);
      const stored = (await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [alice.deviceId] })).device_keys[alice.userId][alice.deviceId];
      const { unsigned: _u, ...signable } = stored;
      const signed = selfSigning.signAs(alice.userId, signable);
      const res = await k.e2ee.service.crossSigning.uploadSignatures(alice.userId, { [alice.userId]: { [alice.deviceId]: signed } });
      assert.deepEqual(res.failures, {});
      const seen = (await k.e2ee.service.keys.query(bob.userId, { [alice.userId]: [] })).device_keys[alice.userId][alice.deviceId];
      assert.equal(seen.signatures[alice.userId][selfSigning.keyId], signed.signatures[alice.userId][selfSigning.keyId]);
      assert.ok(seen.signatures[alice.userId][`ed25519:${alice.deviceId}`], 'the device’s own signature stays');
    });
  });

  it('it should refuse a signature that does not verify and store nothing for it', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const { selfSigning } = await setUp(k, alice);
      const stored = (await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [alice.deviceId] })).device_keys[alice.userId][alice.deviceId];
      const { unsigned: _u, ...signable } = stored;
      const forged = {
        ...signable,
        signatures: { [alice.userId]: { ...signable.signatures[alice.userId], [selfSigning.keyId]: 'A'.repeat(86) } },
      };
      // Signed by a key that is not Alice's self-signing key.
      const stranger = new FakeCrossSigningKey();
      const res = await k.e2ee.service.crossSigning.uploadSignatures(alice.userId, {
        [alice.userId]: { [alice.deviceId]: forged, UNKNOWN: stranger.signAs(alice.userId, signable) },
      });
      assert.equal(res.failures[alice.userId][alice.deviceId].errcode, 'M_INVALID_SIGNATURE');
      assert.equal(res.failures[alice.userId].UNKNOWN.errcode, 'M_NOT_FOUND');
      const after = (await k.e2ee.service.keys.query(alice.userId, { [alice.userId]: [] })).device_keys[alice.userId][alice.deviceId];
      assert.equal(after.signatures[alice.userId][selfSigning.keyId], undefined);

      // A signed object that differs from the stored key is refused too, even with a good signature.
      const altered = selfSigning.signAs(alice.userId, { ...signable, algorithms: ['x'] });
      const res2 = await k.e2ee.service.crossSigning.uploadSignatures(alice.userId, { [alice.userId]: { [alice.deviceId]: altered } });
      assert.equal(res2.failures[alice.userId][alice.deviceId].errcode, 'M_INVALID_SIGNATURE');
    });
  });

  it('it should show a user-signing signature on another user’s master key only to the signer', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const carol = await k.register('carol');
      const a = await setUp(k, alice);
      const b = await setUp(k, bob);
      const bobMaster = b.body.master_key;
      const signed = a.userSigning.signAs(alice.userId, bobMaster);
      const res = await k.e2ee.service.crossSigning.uploadSignatures(alice.userId, { [bob.userId]: { [b.master.publicKey]: signed } });
      assert.deepEqual(res.failures, {});
      const sigOf = async (viewer: FakeDevice) =>
        (await k.e2ee.service.keys.query(viewer.userId, { [bob.userId]: [] })).master_keys[bob.userId].signatures?.[alice.userId];
      assert.equal((await sigOf(alice))?.[a.userSigning.keyId], signed.signatures![alice.userId][a.userSigning.keyId]);
      assert.equal(await sigOf(bob), undefined, 'hidden from the signed user');
      assert.equal(await sigOf(carol), undefined, 'hidden from everyone else');

      // Alice's self-signing key may not sign Bob's master key.
      const wrongKey = a.selfSigning.signAs(alice.userId, bobMaster);
      const res2 = await k.e2ee.service.crossSigning.uploadSignatures(alice.userId, { [bob.userId]: { [b.master.publicKey]: wrongKey } });
      assert.equal(res2.failures[bob.userId][b.master.publicKey].errcode, 'M_INVALID_SIGNATURE');
    });
  });

  it('it should accept a device’s signature on its own user’s master key', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const { master, body } = await setUp(k, alice);
      const signed = alice.sign(body.master_key);
      const res = await k.e2ee.service.crossSigning.uploadSignatures(alice.userId, { [alice.userId]: { [master.publicKey]: signed } });
      assert.deepEqual(res.failures, {});
      const seen = (await k.e2ee.service.keys.query(bob.userId, { [alice.userId]: [] })).master_keys[alice.userId];
      assert.ok(seen.signatures?.[alice.userId]?.[`ed25519:${alice.deviceId}`]);
    });
  });
});
