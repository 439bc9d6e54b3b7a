// Presence, directories and server-side search, as matrix-js-sdk clients and raw HTTP use them.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeClient, type TestClient } from './harness/client.js';
import { useServer } from './harness/hooks.js';
import { createRoom, enc, expectError, expectOk, joinRoom, rawRequest, registerUser, sendText, type Json, type User } from './harness/http.js';
import { sleep } from './harness/util.js';

describe('presence, directories and search', () => {
  const ctx = useServer();
  let alice: User;
  let bob: User;
  let aliceClient: TestClient;
  let bobClient: TestClient;
  let roomId = '';

  const search = (u: User, criteria: Json) =>
    rawRequest(ctx.server, 'POST', '/_matrix/client/v3/search', { token: u.accessToken, body: { search_categories: { room_events: criteria } } });

  before(async () => {
    alice = await registerUser(ctx.server);
    bob = await registerUser(ctx.server);
    roomId = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Observatory' });
    await joinRoom(ctx.server, bob, roomId);
    aliceClient = makeClient(ctx.server, alice);
    bobClient = makeClient(ctx.server, bob);
    await Promise.all([aliceClient.start(), bobClient.start()]);
  });
  after(() => {
    aliceClient?.stop();
    bobClient?.stop();
  });

  it('should deliver presence to a room-mate', async () => {
    await aliceClient.client.setPresence({ presence: 'unavailable', status_msg: 'Stargazing' });
    const seen = await bobClient.waitFor("Bob's client to see Alice's presence", () => {
      const u = bobClient.client.getUser(alice.userId);
      return u?.presence === 'unavailable' && u.presenceStatusMsg === 'Stargazing' ? u : undefined;
    });
    assert.equal(seen.presenceStatusMsg, 'Stargazing');
    const got = expectOk(await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/presence/${enc(alice.userId)}/status`, { token: bob.accessToken }), 'GET presence');
    assert.equal(got.presence, 'unavailable');
    assert.equal(got.status_msg, 'Stargazing');

    const stranger = await registerUser(ctx.server);
    expectError(
      await rawRequest(ctx.server, 'GET', `/_matrix/client/v3/presence/${enc(alice.userId)}/status`, { token: stranger.accessToken }),
      403,
      'M_FORBIDDEN',
      "a stranger asking for Alice's presence",
    );
  });

  it('should find a message with search and stop finding it after redaction', async () => {
    const eventId = await sendText(ctx.server, alice, roomId, 'The comet passes on Tuesday');
    let found: Json;
    for (let i = 0; i < 50; i++) {
      found = expectOk(await search(bob, { search_term: 'comet' }), 'search');
      if (found.search_categories.room_events.results.length > 0) break;
      await sleep(100);
    }
    const results = found.search_categories.room_events.results;
    assert.equal(results.length, 1, 'the message is found');
    assert.equal(results[0].result.event_id, eventId);
    assert.equal(results[0].result.content.body, 'The comet passes on Tuesday');

    // The same through matrix-js-sdk's search API.
    const sdkRes = await bobClient.client.search({ body: { search_categories: { room_events: { search_term: 'tuesday' } } } });
    assert.equal(sdkRes.search_categories.room_events.results?.[0]?.result.event_id, eventId);

    await aliceClient.client.redactEvent(roomId, eventId);
    await bobClient.waitForEvent(roomId, 'Bob to see the redaction', (e) => e.getId() === eventId && e.isRedacted());
    const afterRedaction = expectOk(await search(bob, { search_term: 'comet' }), 'search after redaction');
    assert.deepEqual(afterRedaction.search_categories.room_events.results, []);
    const anyBody = expectOk(await search(bob, { search_term: 'passes tuesday', order_by: 'recent' }), 'search other words');
    assert.deepEqual(anyBody.search_categories.room_events.results, [], 'no word of the redacted body is found');
  });

  it('should refuse a search with an unknown filter key', async () => {
    const res = await search(bob, { search_term: 'anything', filter: { no_such_filter_key: 1 } });
    expectError(res, 400, 'M_BAD_JSON', 'search with an unknown filter key');
  });

  it('should list a public room in the directory and find its members in the user directory', async () => {
    const listed = await createRoom(ctx.server, alice, { visibility: 'public', preset: 'public_chat', name: 'Telescope owners', topic: 'Refractors only' });
    const page = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/publicRooms', { token: bob.accessToken, body: { filter: { generic_search_term: 'refractor' } } }),
      'publicRooms',
    );
    assert.deepEqual(page.chunk.map((c: Json) => c.room_id), [listed]);
    const users = expectOk(
      await rawRequest(ctx.server, 'POST', '/_matrix/client/v3/user_directory/search', { token: bob.accessToken, body: { search_term: alice.localpart.toUpperCase() } }),
      'user directory',
    );
    assert.ok(users.results.some((r: Json) => r.user_id === alice.userId));
  });

  it('should serve r0 paths for older clients', async () => {
    const res = expectOk(await rawRequest(ctx.server, 'GET', '/_matrix/client/r0/account/3pid', { token: bob.accessToken }), 'r0 3pid');
    assert.deepEqual(res, { threepids: [] });
  });
});
