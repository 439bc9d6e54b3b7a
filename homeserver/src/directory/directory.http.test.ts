import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { C, withKit } from './testKit.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('user directory', () => {
  it('should find room-mates and members of public rooms by name or ID, case-insensitively, but not strangers', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bob = k.user('bob');
      const carol = k.user('carol');
      const dave = k.user('dave');
      k.profiles.set(alice.userId, { displayname: 'Alice Liddell', avatar_url: 'mxc://example.test/a' });
      k.profiles.set(dave.userId, { displayname: 'Dave Public' });
      const privateRoom = await k.createRoom(alice, { preset: 'private_chat' });
      await k.rooms.membership.invite(alice.userId, privateRoom, bob.userId);
      await k.rooms.membership.join(bob.userId, privateRoom);
      await k.createRoom(dave, { preset: 'public_chat' });
      await k.settle();

      const find = async (who: typeof alice, term: string) =>
        (await k.call('POST', `${C}/user_directory/search`, { token: who.token, body: { search_term: term } })).json;

      const byName = await find(bob, 'LIDD');
      assert.deepEqual(byName, { limited: false, results: [{ user_id: alice.userId, display_name: 'Alice Liddell', avatar_url: 'mxc://example.test/a' }] });
      assert.deepEqual((await find(bob, '@ALICE:example')).results.map((r: Json) => r.user_id), [alice.userId], 'by user ID');
      assert.deepEqual((await find(carol, 'alice')).results, [], 'a stranger does not find Alice (private room only)');
      assert.deepEqual((await find(carol, 'dave')).results.map((r: Json) => r.user_id), [dave.userId], 'members of public rooms are findable');

      // A profile change reaches the directory through the member events it causes.
      k.profiles.set(alice.userId, { displayname: 'Alice Pleasance' });
      await k.rooms.membership.profileChanged(alice.userId);
      await k.settle();
      assert.deepEqual((await find(bob, 'pleas')).results.map((r: Json) => r.display_name), ['Alice Pleasance']);
      assert.deepEqual((await find(bob, 'liddell')).results, []);

      // After leaving, Bob no longer shares a room with Alice.
      await k.rooms.membership.leave(bob.userId, privateRoom);
      await k.settle();
      assert.deepEqual((await find(bob, 'alice')).results, []);
    });
  });

  it('should rank exact and prefix matches first and honour the limit', async () => {
    await withKit(async (k) => {
      const searcher = k.user('searcher');
      const names = ['Sam Smith', 'Samantha', 'Old Sam', 'Sam'];
      const roomId = await k.createRoom(searcher, { preset: 'public_chat' });
      let i = 0;
      for (const n of names) {
        const u = k.user(`user${i++}`);
        k.profiles.set(u.userId, { displayname: n });
        await k.rooms.membership.join(u.userId, roomId);
      }
      await k.settle();
      const res = await k.call('POST', `${C}/user_directory/search`, { token: searcher.token, body: { search_term: 'sam', limit: 3 } });
      assert.equal(res.json.limited, true);
      assert.equal(res.json.results.length, 3);
      assert.equal(res.json.results[0].display_name, 'Sam', 'the exact name first');
      assert.ok(!res.json.results.slice(0, 2).some((r: Json) => r.display_name === 'Old Sam'), 'prefix matches before inner-word matches');
    });
  });
});

describe('public room directory', () => {
  it('should list published rooms, page with next_batch and prev_batch, and filter by a search term', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const cheese = await k.createRoom(alice, { visibility: 'public', preset: 'public_chat', name: 'Cheese', topic: 'Brie and more' });
      const tea = await k.createRoom(alice, { visibility: 'public', preset: 'public_chat', name: 'Tea', room_alias_name: 'tea' });
      const cake = await k.createRoom(alice, { visibility: 'public', preset: 'public_chat', name: 'Cake' });
      await k.createRoom(alice, { preset: 'public_chat', name: 'Unlisted' });
      for (const u of ['b1', 'b2']) await k.rooms.membership.join(k.user(u).userId, tea);
      await k.rooms.membership.join(k.user('b3').userId, cake);

      const first = await k.call('GET', `${C}/publicRooms?limit=2`);
      assert.equal(first.status, 200, 'no token needed');
      assert.deepEqual(first.json.chunk.map((c: Json) => c.room_id), [tea, cake], 'most members first');
      assert.equal(first.json.total_room_count_estimate, 3);
      assert.equal(first.json.prev_batch, undefined);
      const teaEntry = first.json.chunk[0];
      assert.equal(teaEntry.name, 'Tea');
      assert.equal(teaEntry.num_joined_members, 3);
      assert.equal(teaEntry.canonical_alias, '#tea:example.test');
      assert.equal(teaEntry.join_rule, 'public');
      assert.equal(teaEntry.world_readable, false);
      assert.equal(teaEntry.guest_can_join, false);

      const second = await k.call('GET', `${C}/publicRooms?limit=2&since=${encodeURIComponent(first.json.next_batch)}`);
      assert.deepEqual(second.json.chunk.map((c: Json) => c.room_id), [cheese]);
      assert.equal(second.json.next_batch, undefined);
      const back = await k.call('GET', `${C}/publicRooms?limit=2&since=${encodeURIComponent(second.json.prev_batch)}`);
      assert.deepEqual(back.json.chunk.map((c: Json) => c.room_id), [tea, cake]);

      const searched = await k.call('POST', `${C}/publicRooms`, { token: alice.token, body: { filter: { generic_search_term: 'BRIE' } } });
      assert.deepEqual(searched.json.chunk.map((c: Json) => c.room_id), [cheese], 'matches the topic');
      const byAlias = await k.call('POST', `${C}/publicRooms`, { token: alice.token, body: { filter: { generic_search_term: '#tea' } } });
      assert.deepEqual(byAlias.json.chunk.map((c: Json) => c.room_id), [tea]);

      // The cache follows state changes.
      await k.rooms.events.setState(alice, cake, 'm.room.name', '', { name: 'Cake and biscuits' });
      const renamed = await k.call('POST', `${C}/publicRooms`, { token: alice.token, body: { filter: { generic_search_term: 'biscuit' } } });
      assert.deepEqual(renamed.json.chunk.map((c: Json) => c.name), ['Cake and biscuits']);

      const remote = await k.call('GET', `${C}/publicRooms?server=elsewhere.example`);
      assert.equal(remote.status, 502);
      const badToken = await k.call('GET', `${C}/publicRooms?since=nonsense`);
      assert.equal(badToken.status, 400);
    });
  });

  it('should read and change a room\'s directory visibility, only for those with power', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const bob = k.user('bob');
      const admin = k.user('admin', { admin: true });
      const roomId = await k.createRoom(alice, { visibility: 'public', preset: 'public_chat', name: 'Listed' });
      await k.rooms.membership.join(bob.userId, roomId);
      const path = `${C}/directory/list/room/${encodeURIComponent(roomId)}`;

      assert.deepEqual((await k.call('GET', path)).json, { visibility: 'public' });
      const denied = await k.call('PUT', path, { token: bob.token, body: { visibility: 'private' } });
      assert.equal(denied.status, 403);
      assert.equal(denied.json.errcode, 'M_FORBIDDEN');
      assert.deepEqual((await k.call('GET', path)).json, { visibility: 'public' }, 'unchanged');

      assert.equal((await k.call('PUT', path, { token: alice.token, body: { visibility: 'private' } })).status, 200);
      assert.deepEqual((await k.call('GET', path)).json, { visibility: 'private' });
      assert.deepEqual((await k.call('GET', `${C}/publicRooms`)).json.chunk, []);
      assert.equal((await k.call('PUT', path, { token: admin.token, body: {} })).status, 200, 'a server admin may; visibility defaults to public');
      assert.deepEqual((await k.call('GET', path)).json, { visibility: 'public' });

      const unknown = await k.call('GET', `${C}/directory/list/room/${encodeURIComponent('!nope:example.test')}`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.errcode, 'M_NOT_FOUND');
    });
  });
});

describe('3PIDs', () => {
  it('should list no 3PIDs and refuse to add them as the spec and Synapse do', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const opts = (body: unknown) => ({ token: alice.token, body });
      assert.deepEqual((await k.call('GET', `${C}/account/3pid`, { token: alice.token })).json, { threepids: [] });
      const email = await k.call('POST', `${C}/account/3pid/email/requestToken`, { body: { client_secret: 's', email: 'a@example.org', send_attempt: 1 } });
      assert.equal(email.status, 400);
      assert.equal(email.json.errcode, 'M_THREEPID_MEDIUM_NOT_SUPPORTED');
      const msisdn = await k.call('POST', `${C}/account/3pid/msisdn/requestToken`, {
        body: { client_secret: 's', country: 'GB', phone_number: '07700900001', send_attempt: 1 },
      });
      assert.equal(msisdn.json.errcode, 'M_THREEPID_MEDIUM_NOT_SUPPORTED');
      const add = await k.call('POST', `${C}/account/3pid/add`, opts({ client_secret: 's', sid: '1' }));
      assert.equal(add.status, 400);
      assert.equal(add.json.errcode, 'M_FORBIDDEN');
      const del = await k.call('POST', `${C}/account/3pid/delete`, opts({ medium: 'email', address: 'a@example.org' }));
      assert.equal(del.json.errcode, 'M_FORBIDDEN');
      const bind = await k.call('POST', `${C}/account/3pid/bind`, opts({ client_secret: 's', id_server: 'id.example', id_access_token: 't', sid: '1' }));
      assert.equal(bind.json.errcode, 'M_SERVER_NOT_TRUSTED');
      const unbind = await k.call('POST', `${C}/account/3pid/unbind`, opts({ medium: 'email', address: 'a@example.org' }));
      assert.deepEqual(unbind.json, { id_server_unbind_result: 'no-support' });
      const malformed = await k.call('POST', `${C}/account/3pid/unbind`, opts({ medium: 'pigeon', address: 'x' }));
      assert.equal(malformed.status, 400);
      assert.equal(malformed.json.errcode, 'M_BAD_JSON');
      assert.deepEqual((await k.call('GET', `${C}/account/3pid`, { token: alice.token })).json, { threepids: [] }, 'still none');
    });
  });
});

describe('older clients', () => {
  it('should serve v3 endpoints under /_matrix/client/r0 too', async () => {
    await withKit(async (k) => {
      const alice = k.user('alice');
      const r0 = await k.call('GET', '/_matrix/client/r0/account/3pid', { token: alice.token });
      assert.equal(r0.status, 200);
      assert.deepEqual(r0.json, { threepids: [] });
      const sync = await k.call('GET', '/_matrix/client/r0/sync', { token: alice.token });
      assert.equal(sync.status, 200);
      assert.equal(typeof sync.json.next_batch, 'string');
      const unknown = await k.call('GET', '/_matrix/client/r0/no_such_endpoint', { token: alice.token });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.errcode, 'M_UNRECOGNIZED');
    });
  });

  it('should accept the deprecated access_token query parameter when configured, and not otherwise', async () => {
    await withKit(
      async (k) => {
        const alice = k.user('alice');
        const res = await k.call('GET', `${C}/account/3pid`, { token: alice.token, tokenInQuery: true });
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { threepids: [] });
        const wrong = await k.call('GET', `${C}/account/3pid?access_token=not-a-token`);
        assert.equal(wrong.status, 401);
        assert.equal(wrong.json.errcode, 'M_UNKNOWN_TOKEN');
      },
      { allowQueryToken: true },
    );
    await withKit(async (k) => {
      const alice = k.user('alice');
      const res = await k.call('GET', `${C}/account/3pid`, { token: alice.token, tokenInQuery: true });
      assert.equal(res.status, 401);
      assert.equal(res.json.errcode, 'M_MISSING_TOKEN');
    });
  });
});
