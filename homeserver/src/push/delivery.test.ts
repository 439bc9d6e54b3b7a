// Pushers and delivery to a real HTTP push gateway on 127.0.0.1: the /pushers API, the
// notify request's shape, event_id_only, retries after a failure, rejected pushkeys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectError } from '../testing/expect.js';
import { C, withPushServer, type PushHarness, type Res, type TestUser } from './testHarness.js';

interface Gateway {
  url: string;
  requests: Array<Record<string, any>>;
  /** Status and body for the next requests, in order; then 200 {rejected: []}. */
  script: Array<{ status: number; body?: unknown }>;
  close(): Promise<void>;
}

async function startGateway(): Promise<Gateway> {
  const gw = { requests: [] as Array<Record<string, any>>, script: [] as Array<{ status: number; body?: unknown }> };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/_matrix/push/v1/notify') gw.requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const next = gw.script.shift() ?? { status: 200, body: { rejected: [] } };
      res.writeHead(next.status, { 'content-type': 'application/json' }).end(JSON.stringify(next.body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    ...gw,
    url: `http://127.0.0.1:${port}/_matrix/push/v1/notify`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function eventually(what: string, cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pusherBody = (url: string, extra: Record<string, unknown> = {}) => ({
  kind: 'http',
  app_id: 'org.example.app',
  pushkey: 'PUSHKEY-1',
  app_display_name: 'Example',
  device_display_name: "Bob's phone",
  lang: 'en',
  data: { url, custom: 'kept' },
  ...extra,
});

async function setup(h: PushHarness) {
  const [alice, bob] = [h.user('alice'), h.user('bob')];
  const roomId = await h.createRoom(alice, { preset: 'public_chat', name: 'Lunch' });
  await h.join(bob, roomId);
  await h.join(h.user('carol'), roomId);
  return { alice, bob, roomId };
}

const mention = (u: TestUser, body = 'hi') => ({ msgtype: 'm.text', body, 'm.mentions': { user_ids: [u.userId] } });

const fastRetry = { backoff: { initialMs: 20, maxMs: 100, giveUpMs: 60_000 } };

test('it should send the gateway the notification with event fields, counts, device and tweaks', async () => {
  const gw = await startGateway();
  try {
    await withPushServer(fastRetry, async (h) => {
      const { alice, bob, roomId } = await setup(h);
      assert.equal((await h.call('POST', `${C}/pushers/set`, { token: bob.token, body: pusherBody(gw.url, { profile_tag: 'xyz' }) })).status, 200);
      const listed = await h.call('GET', `${C}/pushers`, { token: bob.token });
      assert.deepEqual(listed.json, { pushers: [pusherBody(gw.url, { profile_tag: 'xyz' })] });

      const eventId = await h.send(alice, roomId, mention(bob, 'lunch?'));
      await waitFor('the notify request', () => gw.requests.length === 1);
      const n = gw.requests[0].notification;
      assert.equal(n.event_id, eventId);
      assert.equal(n.room_id, roomId);
      assert.equal(n.type, 'm.room.message');
      assert.equal(n.sender, alice.userId);
      assert.deepEqual(n.content, mention(bob, 'lunch?'));
      assert.equal(n.room_name, 'Lunch');
      assert.equal(n.prio, 'high');
      assert.deepEqual(n.counts, { unread: 1 });
      assert.equal(n.devices.length, 1);
      const d = n.devices[0];
      assert.equal(d.app_id, 'org.example.app');
      assert.equal(d.pushkey, 'PUSHKEY-1');
      assert.equal(typeof d.pushkey_ts, 'number');
      assert.ok(d.pushkey_ts < 1e11, 'pushkey_ts is in seconds');
      assert.deepEqual(d.data, { custom: 'kept' }, 'data without the url');
      assert.deepEqual(d.tweaks, { sound: 'default', highlight: true });

      // Alice (the sender) gets nothing; a non-notifying event is not pushed.
      await h.send(alice, roomId, { msgtype: 'm.notice', body: 'bot' });
      await h.settle();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(gw.requests.length, 1);
    });
  } finally {
    await gw.close();
  }
});

test('it should send only IDs and counts in event_id_only format', async () => {
  const gw = await startGateway();
  try {
    await withPushServer(fastRetry, async (h) => {
      const { alice, bob, roomId } = await setup(h);
      const body = pusherBody(gw.url, { data: { url: gw.url, format: 'event_id_only' } });
      await h.call('POST', `${C}/pushers/set`, { token: bob.token, body });
      const eventId = await h.send(alice, roomId, { msgtype: 'm.text', body: 'secret' });
      await waitFor('the notify request', () => gw.requests.length === 1);
      const n = gw.requests[0].notification;
      assert.equal(n.event_id, eventId);
      assert.equal(n.room_id, roomId);
      assert.deepEqual(n.counts, { unread: 1 });
      assert.equal(n.content, undefined);
      assert.equal(n.sender, undefined);
      assert.equal(n.type, undefined);
      assert.deepEqual(n.devices[0].data, { format: 'event_id_only' });
    });
  } finally {
    await gw.close();
  }
});

test('it should retry after the gateway fails, then go on with later notifications in order', async () => {
  const gw = await startGateway();
  try {
    await withPushServer(fastRetry, async (h) => {
      const { alice, bob, roomId } = await setup(h);
      await h.call('POST', `${C}/pushers/set`, { token: bob.token, body: pusherBody(gw.url) });
      gw.script.push({ status: 500, body: { error: 'down' } }, { status: 503 });
      const first = await h.send(alice, roomId, mention(bob, 'one'));
      await waitFor('the failed attempts', () => gw.requests.length >= 2);
      const second = await h.send(alice, roomId, mention(bob, 'two'));
      await waitFor('the retry and the next notification', () => gw.requests.length >= 4);
      assert.deepEqual(gw.requests.map((r) => r.notification.event_id), [first, first, first, second]);
      assert.deepEqual(gw.requests[3].notification.counts, { unread: 1 });
    });
  } finally {
    await gw.close();
  }
});

test('it should remove a pusher whose pushkey the gateway rejects', async () => {
  const gw = await startGateway();
  try {
    await withPushServer(fastRetry, async (h) => {
      const { alice, bob, roomId } = await setup(h);
      await h.call('POST', `${C}/pushers/set`, { token: bob.token, body: pusherBody(gw.url) });
      gw.script.push({ status: 200, body: { rejected: ['PUSHKEY-1'] } });
      await h.send(alice, roomId, mention(bob));
      await waitFor('the notify request', () => gw.requests.length === 1);
      await eventually('the pusher removal', async () => (await h.call('GET', `${C}/pushers`, { token: bob.token })).json.pushers.length === 0);
      await h.send(alice, roomId, mention(bob));
      await h.settle();
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(gw.requests.length, 1, 'nothing more is sent to a rejected pushkey');
    });
  } finally {
    await gw.close();
  }
});

test('it should tell the gateway the new badge count when the user reads', async () => {
  const gw = await startGateway();
  try {
    await withPushServer(fastRetry, async (h) => {
      const { alice, bob, roomId } = await setup(h);
      await h.call('POST', `${C}/pushers/set`, { token: bob.token, body: pusherBody(gw.url) });
      const eventId = await h.send(alice, roomId, mention(bob));
      await waitFor('the notify request', () => gw.requests.length === 1);
      await h.push.receiptMoved(bob.userId, roomId, eventId);
      await waitFor('the badge update', () => gw.requests.length === 2);
      const n = gw.requests[1].notification;
      assert.equal(n.event_id, undefined);
      assert.deepEqual(n.counts, {}, 'zero counts are left out');
      assert.equal(n.devices[0].pushkey, 'PUSHKEY-1');
    });
  } finally {
    await gw.close();
  }
});

test('it should validate, replace, share and delete pushers as pusher.yaml describes', async () => {
  await withPushServer({}, async (h) => {
    const [bob, carol] = [h.user('bob'), h.user('carol')];
    const url = 'https://push.example.org/_matrix/push/v1/notify';
    const set = (u: TestUser, body: unknown) => h.call('POST', `${C}/pushers/set`, { token: u.token, body });
    const list = async (u: TestUser) => (await h.call('GET', `${C}/pushers`, { token: u.token })).json.pushers;

    const noLang = pusherBody(url) as Record<string, unknown>;
    delete noLang.lang;
    delete noLang.data;
    const missing = await set(bob, noLang);
    expectError(missing, 400, 'M_MISSING_PARAM');
    assert.match(missing.json.error, /lang, data/);
    expectError(await set(bob, { app_id: 'a', pushkey: 'k' }), 400, 'M_MISSING_PARAM');
    expectError(await set(bob, pusherBody(url, { data: {} })), 400, 'M_MISSING_PARAM');
    expectError(await set(bob, pusherBody('http://push.example.org/_matrix/push/v1/notify')), 400, 'M_INVALID_PARAM');
    expectError(await set(bob, pusherBody('https://push.example.org/notify')), 400, 'M_INVALID_PARAM');
    expectError(await set(bob, pusherBody('not a url')), 400, 'M_INVALID_PARAM');
    expectError(await set(bob, pusherBody(url, { kind: 'carrier-pigeon' })), 400, 'M_INVALID_PARAM');
    expectError(await set(bob, pusherBody(url, { app_id: 'x'.repeat(65) })), 400, 'M_INVALID_PARAM');
    expectError(await set(bob, pusherBody(url, { append: 'yes' })), 400, 'M_BAD_JSON');
    assert.deepEqual(await list(bob), []);

    assert.equal((await set(bob, pusherBody(url))).status, 200);
    assert.equal((await set(bob, pusherBody(url, { lang: 'fr' }))).status, 200);
    assert.deepEqual((await list(bob)).map((p: any) => p.lang), ['fr'], 'same app_id and pushkey: replaced');
    assert.equal((await set(bob, pusherBody(url, { pushkey: 'PUSHKEY-2' }))).status, 200);
    assert.equal((await list(bob)).length, 2);

    // append: true shares the pushkey; the default takes it over from other users.
    assert.equal((await set(carol, pusherBody(url, { append: true }))).status, 200);
    assert.equal((await list(bob)).length, 2);
    assert.equal((await set(carol, pusherBody(url))).status, 200);
    assert.deepEqual((await list(bob)).map((p: any) => p.pushkey), ['PUSHKEY-2']);
    assert.equal((await list(carol)).length, 1);

    assert.equal((await set(bob, { kind: null, app_id: 'org.example.app', pushkey: 'PUSHKEY-2' })).status, 200);
    assert.deepEqual(await list(bob), []);
    assert.equal((await set(bob, { kind: null, app_id: 'org.example.app', pushkey: 'never-set' })).status, 200);
  });
});
