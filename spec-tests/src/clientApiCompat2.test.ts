// Black-box checks of issue-5 features that were only tested in-process, on a server with the
// default configuration: pushers (/pushers/set validation, set/list/replace/append/delete),
// restricted joins, local aliases following a room upgrade, the asynchronous upload
// (/create + PUT), and the deprecated access_token query parameter (accepted by default).
// Spec: client-server-api/modules/push.md, pusher.yaml; _index.md "Restricted rooms",
// modules/room_upgrades.md; content_repo.md (create, PUT upload); "Using access tokens".
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useServer } from './harness/hooks.js';
import {
  createRoom,
  enc,
  expectError,
  expectOk,
  joinRoom,
  rawRequest,
  registerUser,
  sendRaw,
  type Json,
  type User,
} from './harness/http.js';
import { uniq } from './harness/util.js';

const V3 = '/_matrix/client/v3';
const GATEWAY = 'https://push.example.org/_matrix/push/v1/notify';

function pusher(appId: string, pushkey: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'http',
    app_id: appId,
    pushkey,
    app_display_name: 'Parley spec tests',
    device_display_name: 'test device',
    lang: 'en',
    data: { url: GATEWAY, format: 'event_id_only' },
    ...extra,
  };
}

describe('client API compatibility, default configuration (issue 5)', () => {
  const ctx = useServer();
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    alice = await registerUser(ctx.server, uniq('alice'));
    bob = await registerUser(ctx.server, uniq('bob'));
    carol = await registerUser(ctx.server, uniq('carol'));
  });

  const setPusher = (u: User, body: unknown) => rawRequest(ctx.server, 'POST', `${V3}/pushers/set`, { token: u.accessToken, body });
  const listPushers = async (u: User): Promise<Json[]> => {
    const json = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/pushers`, { token: u.accessToken }), `GET /pushers as ${u.userId}`);
    assert.ok(Array.isArray(json.pushers), 'pushers is an array');
    return json.pushers;
  };

  it('should refuse /pushers/set with missing fields (M_MISSING_PARAM) or a bad URL (M_INVALID_PARAM), storing nothing', async () => {
    const u = await registerUser(ctx.server, uniq('pv'));
    const appId = 'org.parley.spec.' + uniq();
    for (const field of ['kind', 'app_id', 'pushkey', 'app_display_name', 'device_display_name', 'lang', 'data']) {
      const body = pusher(appId, 'key-1');
      delete body[field];
      expectError(await setPusher(u, body), 400, 'M_MISSING_PARAM', `pushers/set without ${field}`);
    }
    expectError(await setPusher(u, pusher(appId, 'key-1', { data: {} })), 400, 'M_MISSING_PARAM', 'http pusher without data.url');
    for (const url of ['not a url', 'ftp://push.example.org/_matrix/push/v1/notify', 'https://push.example.org/wrong/path', 'http://push.example.org/_matrix/push/v1/notify']) {
      expectError(await setPusher(u, pusher(appId, 'key-1', { data: { url } })), 400, 'M_INVALID_PARAM', `pushers/set with data.url ${url}`);
    }
    expectError(await setPusher(u, pusher('x'.repeat(65), 'key-1')), 400, 'M_INVALID_PARAM', 'app_id over 64 characters');
    expectError(await setPusher(u, { ...pusher(appId, 'key-1'), kind: 7 }), 400, 'M_BAD_JSON', 'kind of the wrong type');
    assert.deepEqual(await listPushers(u), [], 'refused pushers are not stored');
  });

  it('should set, list, replace, append and delete (kind null) pushers', async () => {
    const appId = 'org.parley.spec.' + uniq();
    const shared = 'shared-key-' + uniq();
    expectOk(await setPusher(alice, pusher(appId, shared, { profile_tag: 'tag1' })), 'alice sets a pusher');
    const listed = await listPushers(alice);
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0], {
      kind: 'http',
      app_id: appId,
      pushkey: shared,
      app_display_name: 'Parley spec tests',
      device_display_name: 'test device',
      lang: 'en',
      profile_tag: 'tag1',
      data: { url: GATEWAY, format: 'event_id_only' },
    });

    // The same app_id + pushkey again replaces it.
    expectOk(await setPusher(alice, pusher(appId, shared, { device_display_name: 'renamed', lang: 'de' })), 'alice replaces her pusher');
    const replaced = await listPushers(alice);
    assert.equal(replaced.length, 1, 'replaced, not added');
    assert.equal(replaced[0].device_display_name, 'renamed');
    assert.equal(replaced[0].lang, 'de');

    // A second pushkey for the same app is a second pusher.
    const other = 'other-key-' + uniq();
    expectOk(await setPusher(alice, pusher(appId, other)), 'alice adds a second pusher');
    assert.deepEqual((await listPushers(alice)).map((p) => p.pushkey).sort(), [shared, other].sort());

    // append: true keeps other users' pushers with the same app_id + pushkey...
    expectOk(await setPusher(bob, pusher(appId, shared, { append: true })), 'bob appends the same pushkey');
    assert.equal((await listPushers(bob)).length, 1);
    assert.ok((await listPushers(alice)).some((p) => p.pushkey === shared), 'append: true left alice her pusher');
    // ...and append false (the default) takes the pushkey over from everyone else.
    expectOk(await setPusher(carol, pusher(appId, shared)), 'carol sets the same pushkey without append');
    assert.deepEqual((await listPushers(alice)).map((p) => p.pushkey), [other], "alice lost the pushkey carol took over");
    assert.deepEqual(await listPushers(bob), [], 'bob lost the pushkey carol took over');
    assert.equal((await listPushers(carol)).length, 1);

    // kind: null deletes (only app_id and pushkey are needed).
    expectOk(await setPusher(alice, { kind: null, app_id: appId, pushkey: other }), 'alice deletes her pusher');
    assert.deepEqual(await listPushers(alice), []);
    expectOk(await setPusher(alice, { kind: null, app_id: appId, pushkey: 'never-set' }), 'deleting an unknown pusher is not an error');
    assert.equal((await listPushers(carol)).length, 1, "alice's delete left carol's pusher alone");
  });

  it('should let a member of the allowed room join a restricted room without an invite, and refuse others with 403', async () => {
    const allowed = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Allowed' });
    const restricted = await createRoom(ctx.server, alice, {
      room_version: '10',
      name: 'Restricted',
      initial_state: [
        {
          type: 'm.room.join_rules',
          state_key: '',
          content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: allowed }] },
        },
      ],
    });
    const rules = expectOk(
      await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(restricted)}/state/m.room.join_rules/`, { token: alice.accessToken }),
      'join rules',
    );
    assert.equal(rules.join_rule, 'restricted');

    expectError(
      await rawRequest(ctx.server, 'POST', `${V3}/join/${enc(restricted)}`, { token: carol.accessToken, body: {} }),
      403,
      'M_FORBIDDEN',
      'join of a restricted room by a non-member of the allowed room',
    );
    await joinRoom(ctx.server, bob, allowed);
    assert.equal(await joinRoom(ctx.server, bob, restricted), restricted);
    const member = expectOk(
      await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(restricted)}/state/m.room.member/${enc(bob.userId)}`, { token: alice.accessToken }),
      "bob's membership",
    );
    assert.equal(member.membership, 'join');
    assert.equal(member.join_authorised_via_users_server, alice.userId, 'the join names the local member who authorised it');
    // Carol is still refused after bob got in.
    expectError(
      await rawRequest(ctx.server, 'POST', `${V3}/join/${enc(restricted)}`, { token: carol.accessToken, body: {} }),
      403,
      'M_FORBIDDEN',
      'second attempt by the non-member',
    );
  });

  it('should move local aliases to the replacement room on upgrade', async () => {
    const old = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Aliased' });
    const alias = `#${uniq('upg')}:${ctx.server.serverName}`;
    expectOk(await rawRequest(ctx.server, 'PUT', `${V3}/directory/room/${enc(alias)}`, { token: alice.accessToken, body: { room_id: old } }), 'create alias');
    expectOk(
      await rawRequest(ctx.server, 'PUT', `${V3}/rooms/${enc(old)}/state/m.room.canonical_alias/`, { token: alice.accessToken, body: { alias } }),
      'canonical alias',
    );
    assert.equal(expectOk(await rawRequest(ctx.server, 'GET', `${V3}/directory/room/${enc(alias)}`), 'resolve before').room_id, old);

    const { replacement_room: next } = expectOk(
      await rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(old)}/upgrade`, { token: alice.accessToken, body: { new_version: '11' } }),
      'upgrade',
    );
    assert.notEqual(next, old);
    const resolved = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/directory/room/${enc(alias)}`), 'resolve after upgrade');
    assert.equal(resolved.room_id, next, 'the alias now points at the replacement room');
    const aliases = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(next)}/aliases`, { token: alice.accessToken }), 'new room aliases');
    assert.deepEqual(aliases.aliases, [alias]);
    const oldAliases = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(old)}/aliases`, { token: alice.accessToken }), 'old room aliases');
    assert.deepEqual(oldAliases.aliases, []);
    const canonical = expectOk(
      await rawRequest(ctx.server, 'GET', `${V3}/rooms/${enc(next)}/state/m.room.canonical_alias/`, { token: alice.accessToken }),
      'canonical alias of the new room',
    );
    assert.equal(canonical.alias, alias);
    // Joining by the alias lands in the new room.
    assert.equal(await joinRoom(ctx.server, carol, alias), next);
  });

  it('should upload asynchronously with /create and PUT, serve the bytes, and refuse a second PUT with 409', async () => {
    const created = expectOk(await rawRequest(ctx.server, 'POST', '/_matrix/media/v1/create', { token: alice.accessToken, body: {} }), 'create');
    assert.match(created.content_uri, /^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/);
    if (created.unused_expires_at !== undefined) assert.equal(typeof created.unused_expires_at, 'number');
    const [serverName, mediaId] = created.content_uri.slice('mxc://'.length).split('/');
    assert.equal(serverName, ctx.server.serverName);
    const put = (u: User, bytes: Buffer) =>
      rawRequest(ctx.server, 'PUT', `/_matrix/media/v3/upload/${enc(serverName)}/${enc(mediaId)}?filename=notes.txt`, {
        token: u.accessToken,
        rawBody: bytes,
        headers: { 'Content-Type': 'text/plain' },
      });

    // Before the PUT there is nothing to download yet (a short timeout_ms so the server does not wait long).
    const early = await rawRequest(ctx.server, 'GET', `/_matrix/client/v1/media/download/${enc(serverName)}/${enc(mediaId)}?timeout_ms=200`, {
      token: alice.accessToken,
    });
    assert.ok(early.status === 504 || early.status === 404, `download before upload: expected 504 M_NOT_YET_UPLOADED (or 404), got ${early.status} ${early.text}`);

    expectError(await put(bob, Buffer.from('not mine')), 403, 'M_FORBIDDEN', 'PUT to media created by another user');
    const bytes = Buffer.from('async upload ' + uniq());
    expectOk(await put(alice, bytes), 'PUT upload');

    const res = await fetch(`${ctx.server.baseUrl}/_matrix/client/v1/media/download/${enc(serverName)}/${enc(mediaId)}`, {
      headers: { Authorization: `Bearer ${bob.accessToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes), 'downloaded bytes match the PUT');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(res.headers.get('content-disposition') ?? '', /notes\.txt/);

    expectError(await put(alice, Buffer.from('overwrite')), 409, 'M_CANNOT_OVERWRITE_MEDIA', 'second PUT');
    const again = await fetch(`${ctx.server.baseUrl}/_matrix/client/v1/media/download/${enc(serverName)}/${enc(mediaId)}`, {
      headers: { Authorization: `Bearer ${alice.accessToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(bytes), 'the refused PUT changed nothing');
  });

  it('should refuse a threaded receipt whose event is not in that thread (thread_id main on a thread reply) with 400', async () => {
    const room = await createRoom(ctx.server, alice, { preset: 'public_chat' });
    await joinRoom(ctx.server, bob, room);
    const send = async (content: unknown) =>
      expectOk(await sendRaw(ctx.server, alice, room, content), 'send').event_id as string;
    const root = await send({ msgtype: 'm.text', body: 'root' });
    const reply = await send({ msgtype: 'm.text', body: 'in thread', 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    const main = await send({ msgtype: 'm.text', body: 'main timeline' });
    const receipt = (ev: string, threadId: string) =>
      rawRequest(ctx.server, 'POST', `${V3}/rooms/${enc(room)}/receipt/m.read/${enc(ev)}`, { token: bob.accessToken, body: { thread_id: threadId } });
    expectError(await receipt(reply, 'main'), 400, 'M_INVALID_PARAM', 'thread_id main on a thread reply');
    expectError(await receipt(main, root), 400, 'M_INVALID_PARAM', 'thread_id of a thread on a main-timeline event');
    expectOk(await receipt(reply, root), 'receipt in the thread');
    expectOk(await receipt(root, 'main'), 'the thread root is in the main timeline');
    expectOk(await receipt(main, 'main'), 'receipt in the main timeline');
  });

  it('should accept the deprecated access_token query parameter by default', async () => {
    const who = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/account/whoami?access_token=${enc(alice.accessToken)}`), 'whoami with ?access_token=');
    assert.equal(who.user_id, alice.userId);
    expectError(await rawRequest(ctx.server, 'GET', `${V3}/account/whoami?access_token=nope`), 401, 'M_UNKNOWN_TOKEN', 'unknown query token');
  });
});
