// Woken /syncs that get the same rooms section share one build of it (sharedAnswers.ts).
// Each test wakes several members at once — syncs from a token taken before the changes,
// which the notifier releases at once — and checks every answer against the same sync
// built in full (timeout=0), apart from `unsigned.age`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hidingIgnored, IGNORED_USER_LIST, IgnoredUsers } from '../messaging/ignoredUsers.js';
import { withoutAge } from '../testing/expect.js';
import { C, withSyncServer, type Harness, type TestUser } from './testHarness.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function sync(h: Harness, u: TestUser, params: Record<string, string | number>): Promise<Json> {
  const res = await h.syncRaw(u, params);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json;
}

/** Everyone's token before the changes (their device's first sync is built: later ones may wait). */
async function tokens(h: Harness, users: TestUser[]): Promise<Map<TestUser, string>> {
  return new Map(await Promise.all(users.map(async (u): Promise<[TestUser, string]> => [u, (await sync(h, u, { timeout: 0 })).next_batch])));
}

/** Every user's long-poll from their token, sent together: each is woken at once by what happened since. */
async function wake(h: Harness, since: Map<TestUser, string>, timeoutMs = 10_000): Promise<Map<TestUser, Json>> {
  return new Map(await Promise.all([...since].map(async ([u, s]): Promise<[TestUser, Json]> => [u, await sync(h, u, { since: s, timeout: timeoutMs })])));
}

/** Each woken answer equals the answer the same sync gets when built in full. */
async function assertAsIfBuiltAlone(h: Harness, since: Map<TestUser, string>, woken: Map<TestUser, Json>): Promise<void> {
  for (const [u, answer] of woken) {
    const alone = await sync(h, u, { since: since.get(u)!, timeout: 0 });
    assert.deepEqual(withoutAge(answer), withoutAge(alone), `${u.userId} on ${u.deviceId}`);
  }
}

/** alice's public room, with bob and carol in it. */
async function threeInARoom(h: Harness): Promise<{ alice: TestUser; bob: TestUser; carol: TestUser; roomId: string }> {
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => h.user(n));
  const roomId = await h.createRoom(alice, { preset: 'public_chat' });
  for (const u of [bob, carol]) await h.rooms.membership.join(u.userId, roomId);
  return { alice, bob, carol, roomId };
}

const bodies = (answer: Json, roomId: string): string[] => (answer.rooms.join[roomId]?.timeline.events ?? []).map((e: Json) => e.content.body);

describe('woken /syncs sharing their rooms section', () => {
  it('it should give every member the message with their own counts, and the sending device its transaction ID', async () => {
    await withSyncServer(
      async (h) => {
        const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map((n) => h.user(n));
        const aliceLaptop = h.user('alice', 'LAPTOP');
        const roomId = await h.createRoom(alice, { preset: 'public_chat' });
        for (const u of [bob, carol, dave]) await h.rooms.membership.join(u.userId, roomId);
        const first = await h.send(alice, roomId, 'first');
        const read = await h.call('POST', `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(first)}`, { token: bob.token, body: {} });
        assert.equal(read.status, 200);
        const since = await tokens(h, [alice, aliceLaptop, bob, carol, dave]);

        await h.send(alice, roomId, `second, for ${carol.userId}`);
        const before = h.sync.shared.sharedCount;
        const woken = await wake(h, since);

        for (const answer of woken.values()) assert.deepEqual(bodies(answer, roomId), [`second, for ${carol.userId}`]);
        const unsigned = (u: TestUser) => woken.get(u).rooms.join[roomId].timeline.events[0].unsigned;
        assert.equal(typeof unsigned(alice).transaction_id, 'string', 'the sending device');
        for (const u of [aliceLaptop, bob, carol, dave]) assert.equal(unsigned(u).transaction_id, undefined, `${u.userId} ${u.deviceId}`);
        const counts = (u: TestUser) => woken.get(u).rooms.join[roomId].unread_notifications;
        assert.deepEqual(counts(bob), { notification_count: 1, highlight_count: 0 }, 'bob read the first message');
        assert.deepEqual(counts(carol), { notification_count: 2, highlight_count: 1 }, 'carol is mentioned');
        assert.deepEqual(counts(dave), { notification_count: 2, highlight_count: 0 });
        // One of the four plain syncs built the entry; the others reused it.
        assert.equal(h.sync.shared.sharedCount - before, 3);
        await assertAsIfBuiltAlone(h, since, woken);
      },
      { deps: () => ({ shareMs: 60_000 }) },
    );
  });

  it('it should build in full for members with news of their own, and hide ignored senders', async () => {
    const lists = new Map<string, Record<string, unknown>>();
    const ignored = new IgnoredUsers({
      get: async (userId, roomId, type) => {
        const content = roomId === '' && type === IGNORED_USER_LIST ? lists.get(userId) : undefined;
        return content ? { content } : undefined;
      },
    });
    await withSyncServer(
      async (h) => {
        const [alice, bob, carol, dave, eve, frank, gina] = ['alice', 'bob', 'carol', 'dave', 'eve', 'frank', 'gina'].map((n) => h.user(n));
        const roomId = await h.createRoom(alice, { preset: 'public_chat' });
        for (const u of [bob, carol, dave, eve, gina]) await h.rooms.membership.join(u.userId, roomId);
        const side = await h.createRoom(frank, { preset: 'public_chat' });
        await h.rooms.membership.join(eve.userId, side);
        lists.set(dave.userId, { ignored_users: { [alice.userId]: {} } });
        const since = await tokens(h, [bob, carol, dave, eve, gina]);

        const put = await h.call('PUT', `${C}/user/${encodeURIComponent(carol.userId)}/account_data/org.example.theme`, { token: carol.token, body: { dark: true } });
        assert.equal(put.status, 200);
        const typing = await h.call('PUT', `${C}/rooms/${encodeURIComponent(side)}/typing/${encodeURIComponent(frank.userId)}`, {
          token: frank.token,
          body: { typing: true, timeout: 30_000 },
        });
        assert.equal(typing.status, 200);
        await h.send(alice, roomId, 'hello all');
        const before = h.sync.shared.sharedCount;
        const daveSince = since.get(dave)!;
        since.delete(dave);
        const woken = await wake(h, since);

        for (const answer of woken.values()) assert.deepEqual(bodies(answer, roomId), ['hello all']);
        assert.deepEqual(woken.get(carol).account_data.events, [{ type: 'org.example.theme', content: { dark: true } }]);
        assert.deepEqual(woken.get(eve).rooms.join[side].ephemeral.events, [{ type: 'm.typing', content: { user_ids: [frank.userId] } }]);
        assert.equal(woken.get(bob).rooms.join[side], undefined);
        // bob and gina are the only plain ones: one built, the other reused.
        assert.equal(h.sync.shared.sharedCount - before, 1);
        await assertAsIfBuiltAlone(h, since, woken);

        const daves = await sync(h, dave, { since: daveSince, timeout: 300 });
        assert.deepEqual(bodies(daves, roomId), [], 'dave ignores alice');
      },
      {
        deps: (rooms) => ({
          ignored,
          visible: hidingIgnored((userId, roomId, events) => rooms.visibility.filter(userId, roomId, events), ignored),
          shareMs: 60_000,
        }),
      },
    );
  });

  it('it should share between users who uploaded the same filter', async () => {
    await withSyncServer(
      async (h) => {
        const { alice, bob, carol, roomId } = await threeInARoom(h);
        const ids: string[] = [];
        for (const u of [bob, carol]) {
          const res = await h.call('POST', `${C}/user/${encodeURIComponent(u.userId)}/filter`, { token: u.token, body: { room: { timeline: { limit: 5 } } } });
          assert.equal(res.status, 200);
          ids.push(res.json.filter_id);
        }
        assert.equal(ids[0], ids[1], 'the same filter has the same ID');
        const since = new Map<TestUser, string>();
        for (const u of [bob, carol]) since.set(u, (await sync(h, u, { timeout: 0, filter: ids[0] })).next_batch);

        await h.send(alice, roomId, 'one client, one filter');
        const before = h.sync.shared.sharedCount;
        const woken = new Map(await Promise.all([bob, carol].map(async (u) => [u, await sync(h, u, { since: since.get(u)!, timeout: 10_000, filter: ids[0] })] as const)));
        for (const answer of woken.values()) assert.deepEqual(bodies(answer, roomId), ['one client, one filter']);
        assert.equal(h.sync.shared.sharedCount - before, 1);
        for (const u of [bob, carol]) {
          const alone = await sync(h, u, { since: since.get(u)!, timeout: 0, filter: ids[0] });
          assert.deepEqual(withoutAge(woken.get(u)), withoutAge(alone));
        }
      },
      { deps: () => ({ shareMs: 60_000 }) },
    );
  });

  it('it should not share when the new events include a state event', async () => {
    await withSyncServer(
      async (h) => {
        const { alice, bob, carol, roomId } = await threeInARoom(h);
        const since = await tokens(h, [bob, carol]);

        await h.rooms.events.setState(alice, roomId, 'm.room.name', '', { name: 'Renamed' });
        await h.send(alice, roomId, 'after the rename');
        const before = h.sync.shared.sharedCount;
        const woken = await wake(h, since);

        for (const answer of woken.values()) {
          const types = answer.rooms.join[roomId].timeline.events.map((e: Json) => e.type);
          assert.deepEqual(types, ['m.room.name', 'm.room.message']);
        }
        assert.equal(h.sync.shared.sharedCount - before, 0);
        await assertAsIfBuiltAlone(h, since, woken);
      },
      { deps: () => ({ shareMs: 60_000 }) },
    );
  });

  it('it should answer the members one message wakes from the room entry the first of them builds, at once and with their own counts', async () => {
    await withSyncServer(
      async (h) => {
        const alice = h.user('alice');
        // More than one release slice (notifier.ts WAKE_SLICE): later slices find the entry built.
        const members = Array.from({ length: 24 }, (_, i) => h.user(`member${i}`));
        const roomId = await h.createRoom(alice, { preset: 'public_chat' });
        for (const u of members) await h.rooms.membership.join(u.userId, roomId);
        const first = await h.send(alice, roomId, 'first');
        // Half of them read it: their counts differ from the others'.
        for (const u of members.slice(0, 12)) {
          const read = await h.call('POST', `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(first)}`, { token: u.token, body: {} });
          assert.equal(read.status, 200);
        }
        const mentioned = members[20];
        const since = await tokens(h, members);
        // One of them has news of their own in the window: never answered from the shared entry.
        const busy = members[23];
        const put = await h.call('PUT', `${C}/user/${encodeURIComponent(busy.userId)}/account_data/org.example.theme`, { token: busy.token, body: { dark: true } });
        assert.equal(put.status, 200);
        const quietSince = new Map([...since].filter(([u]) => u !== busy));

        const held = wake(h, quietSince);
        for (let i = 0; h.sync.notifier.waiting < quietSince.size; i++) {
          assert.ok(i < 200, `${h.sync.notifier.waiting} of ${quietSince.size} long-polls held`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const atFirst = h.sync.shared.sharedAtOnceCount;
        await h.send(alice, roomId, 'second', { 'm.mentions': { user_ids: [mentioned.userId] } });
        const woken = await held;
        // One builds the entry; the rest of its slice wait for it (SharedAnswers.turn), then all answer at once.
        assert.equal(h.sync.shared.sharedAtOnceCount - atFirst, quietSince.size - 1);
        const counts = (answers: Map<TestUser, Json>, u: TestUser) => answers.get(u).rooms.join[roomId].unread_notifications;
        assert.deepEqual(counts(woken, members[0]), { notification_count: 1, highlight_count: 0 }, 'read the first message');
        assert.deepEqual(counts(woken, members[12]), { notification_count: 2, highlight_count: 0 });
        assert.deepEqual(counts(woken, mentioned), { notification_count: 2, highlight_count: 1 }, 'mentioned');
        await assertAsIfBuiltAlone(h, quietSince, woken);

        // The same syncs again (a client retrying its request): the entry is built, the window
        // read and every count in memory, so each is answered at once — but the busy one.
        const atOnce = h.sync.shared.sharedAtOnceCount;
        const again = await wake(h, since);
        assert.equal(h.sync.shared.sharedAtOnceCount - atOnce, quietSince.size);
        for (const u of quietSince.keys()) assert.deepEqual(withoutAge(again.get(u)), withoutAge(woken.get(u)), u.userId);
        assert.deepEqual(again.get(busy).account_data.events, [{ type: 'org.example.theme', content: { dark: true } }]);
        await assertAsIfBuiltAlone(h, since, again);
      },
      { push: true, deps: () => ({ shareMs: 60_000 }) },
    );
  });
});
