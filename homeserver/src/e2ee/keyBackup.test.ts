// Server-side key backups over HTTP: versions, replacement rules, etag/count, errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withE2ee, type FakeDevice, type Json, type Kit } from './testKit.js';

const ALGORITHM = 'm.megolm_backup.v1.curve25519-aes-sha2';
const ROOM = '!room:e2ee.test';

function session(is_verified: boolean, first_message_index: number, forwarded_count: number, tag: string) {
  return { is_verified, first_message_index, forwarded_count, session_data: { ciphertext: tag, ephemeral: 'e', mac: 'm' } };
}

async function ok(k: Kit, d: FakeDevice, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await k.call(method, path, { token: d.token, body });
  assert.equal(res.status, 200, `${method} ${path}: ${JSON.stringify(res.json)}`);
  return res.json;
}

async function createVersion(k: Kit, d: FakeDevice): Promise<string> {
  return (await ok(k, d, 'POST', `${C}/room_keys/version`, { algorithm: ALGORITHM, auth_data: { public_key: 'pk' } })).version;
}

describe('key backup versions', () => {
  it('it should create versions, report the newest, and refuse writes to an older one', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const none = await k.call('GET', `${C}/room_keys/version`, { token: alice.token });
      assert.equal(none.status, 404);
      assert.equal(none.json.errcode, 'M_NOT_FOUND');

      const v1 = await createVersion(k, alice);
      const v2 = await createVersion(k, alice);
      assert.notEqual(v1, v2);
      const latest = await ok(k, alice, 'GET', `${C}/room_keys/version`);
      assert.deepEqual({ ...latest, etag: undefined }, { algorithm: ALGORITHM, auth_data: { public_key: 'pk' }, count: 0, etag: undefined, version: v2 });
      assert.equal(typeof latest.etag, 'string');
      assert.equal((await ok(k, alice, 'GET', `${C}/room_keys/version/${v1}`)).version, v1);

      const wrong = await k.call('PUT', `${C}/room_keys/keys/${ROOM}/s1?version=${v1}`, { token: alice.token, body: session(false, 0, 0, 'x') });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.json.errcode, 'M_WRONG_ROOM_KEYS_VERSION');
      assert.equal(wrong.json.current_version, v2);
      assert.deepEqual((await ok(k, alice, 'GET', `${C}/room_keys/keys?version=${v1}`)).rooms, {}, 'nothing written');
    });
  });

  it('it should update auth_data only with the same algorithm, and delete versions for good', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const bob = await k.register('bob');
      const v = await createVersion(k, alice);
      await ok(k, alice, 'PUT', `${C}/room_keys/version/${v}`, { algorithm: ALGORITHM, auth_data: { public_key: 'pk2' }, version: v });
      assert.deepEqual((await ok(k, alice, 'GET', `${C}/room_keys/version/${v}`)).auth_data, { public_key: 'pk2' });
      const other = await k.call('PUT', `${C}/room_keys/version/${v}`, { token: alice.token, body: { algorithm: 'other', auth_data: {} } });
      assert.equal(other.status, 400);
      assert.equal(other.json.errcode, 'M_INVALID_PARAM');
      // Another user's backups are invisible.
      assert.equal((await k.call('GET', `${C}/room_keys/version/${v}`, { token: bob.token })).status, 404);

      await ok(k, alice, 'PUT', `${C}/room_keys/keys/${ROOM}/s1?version=${v}`, session(false, 0, 0, 'x'));
      await ok(k, alice, 'DELETE', `${C}/room_keys/version/${v}`);
      await ok(k, alice, 'DELETE', `${C}/room_keys/version/${v}`); // already deleted: still fine
      assert.equal((await k.call('GET', `${C}/room_keys/version/${v}`, { token: alice.token })).status, 404);
      assert.equal((await k.call('GET', `${C}/room_keys/keys?version=${v}`, { token: alice.token })).status, 404);
      assert.equal((await k.call('DELETE', `${C}/room_keys/version/999`, { token: alice.token })).status, 404);
      assert.notEqual(await createVersion(k, alice), v, 'a deleted version number is never reused');
    });
  });
});

describe('backed-up session keys', () => {
  it('it should keep the better copy of each session and move etag and count only on change', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const v = await createVersion(k, alice);
      const put = (s: unknown, id = 's1') => ok(k, alice, 'PUT', `${C}/room_keys/keys/${ROOM}/${id}?version=${v}`, s);
      const stored = async (id = 's1') => (await ok(k, alice, 'GET', `${C}/room_keys/keys/${ROOM}/${id}?version=${v}`)).session_data.ciphertext;

      const r1 = await put(session(false, 5, 0, 'a'));
      assert.equal(r1.count, 1);
      const r2 = await put(session(false, 3, 4, 'b'));
      assert.equal(await stored(), 'b', 'earlier first_message_index wins');
      assert.notEqual(r2.etag, r1.etag);
      const r3 = await put(session(false, 3, 5, 'c'));
      assert.equal(await stored(), 'b', 'more forwards loses');
      assert.equal(r3.etag, r2.etag, 'no change, same etag');
      await put(session(true, 40, 9, 'd'));
      assert.equal(await stored(), 'd', 'verified wins');
      await put(session(false, 0, 0, 'e'));
      assert.equal(await stored(), 'd', 'unverified never replaces verified');

      const bulk = await ok(k, alice, 'PUT', `${C}/room_keys/keys?version=${v}`, {
        rooms: { [ROOM]: { sessions: { s2: session(false, 0, 0, 'f') } }, '!other:e2ee.test': { sessions: { s3: session(false, 0, 0, 'g') } } },
      });
      assert.equal(bulk.count, 3);
      assert.equal((await ok(k, alice, 'GET', `${C}/room_keys/version`)).count, 3);
      assert.deepEqual(Object.keys((await ok(k, alice, 'GET', `${C}/room_keys/keys/${ROOM}?version=${v}`)).sessions).sort(), ['s1', 's2']);
      assert.deepEqual(Object.keys((await ok(k, alice, 'GET', `${C}/room_keys/keys?version=${v}`)).rooms).sort(), ['!other:e2ee.test', ROOM].sort());

      const del = await ok(k, alice, 'DELETE', `${C}/room_keys/keys/${ROOM}?version=${v}`);
      assert.equal(del.count, 1);
      assert.notEqual(del.etag, bulk.etag);
      assert.deepEqual((await ok(k, alice, 'GET', `${C}/room_keys/keys/${ROOM}?version=${v}`)).sessions, {});
      const missing = await k.call('GET', `${C}/room_keys/keys/${ROOM}/s1?version=${v}`, { token: alice.token });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.errcode, 'M_NOT_FOUND');
    });
  });

  it('it should refuse malformed key data and a missing version', async () => {
    await withE2ee(async (k) => {
      const alice = await k.register('alice');
      const v = await createVersion(k, alice);
      const bad = await k.call('PUT', `${C}/room_keys/keys/${ROOM}/s1?version=${v}`, {
        token: alice.token,
        body: { first_message_index: -1, forwarded_count: 0, is_verified: false, session_data: {} },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.errcode, 'M_BAD_JSON');
      const noData = await k.call('PUT', `${C}/room_keys/keys?version=${v}`, { token: alice.token, body: { rooms: { [ROOM]: { sessions: { s: { is_verified: true } } } } } });
      assert.equal(noData.status, 400);
      const noVersion = await k.call('GET', `${C}/room_keys/keys`, { token: alice.token });
      assert.equal(noVersion.status, 400);
      assert.equal(noVersion.json.errcode, 'M_MISSING_PARAM');
      assert.equal((await ok(k, alice, 'GET', `${C}/room_keys/version`)).count, 0);
    });
  });
});
