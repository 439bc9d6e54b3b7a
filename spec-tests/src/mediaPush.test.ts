// Media and notifications against the real server, as clients use them: an image upload and
// its thumbnails decoded with sharp, a mention counted in /sync and pushed to a test push
// gateway, and bad input (oversized upload, thumbnail of a non-image, preview of a loopback
// URL, malformed push rule) answered with the spec's error while nothing changes.
// Spec: client-server-api/modules/content_repo.md, modules/push.md, push-gateway-api.md.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { registerAdmin, type AdminUser } from './harness/admin.js';
import { makeClient, sdk } from './harness/client.js';
import { writeConfigFile } from './harness/configFile.js';
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
  sync,
  type Json,
  type User,
} from './harness/http.js';
import { startLoopbackServer, type LoopbackServer } from './harness/loopbackHttp.js';
import { uniq, waitUntil } from './harness/util.js';

const V1 = '/_matrix/client/v1';
const V3 = '/_matrix/client/v3';
const SECRET = 'spec-media-secret-' + uniq();
const MAX_UPLOAD = 64 * 1024;

// Small upload limit and URL previews on (with no IP allowlist: loopback stays blocked).
const configFile = writeConfigFile({ media: { max_upload_size: MAX_UPLOAD, url_preview_enabled: true } });

/** A PNG of the given size: a left half red, right half blue (so a crop is visible). */
async function makePng(width: number, height: number): Promise<Buffer> {
  const half = Math.floor(width / 2);
  const blue = await sharp({ create: { width: width - half, height, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toBuffer();
  return sharp({ create: { width, height, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .composite([{ input: blue, left: half, top: 0 }])
    .png()
    .toBuffer();
}

async function upload(server: { baseUrl: string }, user: User, bytes: Buffer, contentType: string, filename?: string) {
  const qs = filename === undefined ? '' : `?filename=${enc(filename)}`;
  return rawRequest(server, 'POST', `/_matrix/media/v3/upload${qs}`, { token: user.accessToken, rawBody: bytes, headers: { 'Content-Type': contentType } });
}

/** GET with the bytes of the answer (rawRequest decodes text). */
async function getBytes(server: { baseUrl: string }, user: User, path: string): Promise<{ status: number; type: string | null; bytes: Buffer; json: Json }> {
  const res = await fetch(server.baseUrl + path, { headers: { Authorization: `Bearer ${user.accessToken}` }, signal: AbortSignal.timeout(30_000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: Json;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(bytes.toString('utf8'));
  return { status: res.status, type: res.headers.get('content-type'), bytes, json };
}

const mediaPath = (mxc: string) => mxc.slice('mxc://'.length);

/** Every file under a directory (the server's media store), recursively. */
function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('media repository and notifications', () => {
  const ctx = useServer({ registrationSharedSecret: SECRET, extraArgs: configFile.args });
  let admin: AdminUser;
  let alice: User;
  let bob: User;
  after(() => configFile.remove());

  before(async () => {
    admin = await registerAdmin(ctx.server, SECRET);
    alice = await registerUser(ctx.server, uniq('alice'));
    bob = await registerUser(ctx.server, uniq('bob'));
  });

  const mediaOf = async (user: User): Promise<Json[]> =>
    expectOk(await rawRequest(ctx.server, 'GET', `/_synapse/admin/v1/users/${enc(user.userId)}/media`, { token: admin.token }), 'admin lists media').media;

  it('should store an uploaded PNG and serve 96×96 thumbnails: crop exactly, scale keeping the aspect ratio', async () => {
    const png = await makePng(1000, 500);
    const { content_uri: mxc } = expectOk(await upload(ctx.server, alice, png, 'image/png', 'wide.png'), 'upload the PNG');
    assert.match(mxc, /^mxc:\/\/[^/]+\/[A-Za-z0-9_-]+$/);

    const dl = await getBytes(ctx.server, bob, `${V1}/media/download/${mediaPath(mxc)}`);
    assert.equal(dl.status, 200);
    assert.ok(dl.bytes.equals(png), 'the download is byte-for-byte the upload');
    assert.equal(dl.type, 'image/png');

    const crop = await getBytes(ctx.server, bob, `${V1}/media/thumbnail/${mediaPath(mxc)}?width=96&height=96&method=crop`);
    assert.equal(crop.status, 200, `crop thumbnail: ${crop.bytes.toString('utf8').slice(0, 200)}`);
    assert.match(crop.type ?? '', /^image\/(png|jpeg|webp)$/);
    const cropMeta = await sharp(crop.bytes).metadata();
    assert.deepEqual({ width: cropMeta.width, height: cropMeta.height }, { width: 96, height: 96 }, 'crop gives exactly the requested box');
    // The crop is centred: the red/blue boundary runs down the middle of the thumbnail.
    const { data } = await sharp(crop.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3)];
    assert.ok(pixel(5, 48)[0]! > 200 && pixel(5, 48)[2]! < 60, `left edge is red: ${pixel(5, 48)}`);
    assert.ok(pixel(90, 48)[2]! > 200 && pixel(90, 48)[0]! < 60, `right edge is blue: ${pixel(90, 48)}`);

    const scale = await getBytes(ctx.server, bob, `${V1}/media/thumbnail/${mediaPath(mxc)}?width=96&height=96&method=scale`);
    assert.equal(scale.status, 200);
    const scaleMeta = await sharp(scale.bytes).metadata();
    const w = scaleMeta.width!;
    const h = scaleMeta.height!;
    assert.ok(Math.abs(w / h - 2) < 0.03, `scale keeps the 2:1 aspect ratio, got ${w}×${h}`);
    assert.ok(w >= 96 && w < 1000, `scale is at least the requested width and smaller than the original, got ${w}×${h}`);

    // The same thumbnail through matrix-js-sdk's URL builder (authenticated media).
    const sdkClient = makeClient(ctx.server, bob).client;
    const url = sdkClient.mxcUrlToHttp(mxc, 96, 96, 'crop', false, true, true);
    assert.ok(url !== null && url.startsWith(ctx.server.baseUrl), `SDK thumbnail URL: ${url}`);
    const viaSdk = await getBytes(ctx.server, bob, url.slice(ctx.server.baseUrl.length));
    assert.equal(viaSdk.status, 200);
    assert.equal((await sharp(viaSdk.bytes).metadata()).width, 96);
  });

  it('should refuse an upload over media.max_upload_size with 413 M_TOO_LARGE and store nothing', async () => {
    const user = await registerUser(ctx.server, uniq('uploader'));
    const cfg = expectOk(await rawRequest(ctx.server, 'GET', `${V1}/media/config`, { token: user.accessToken }), 'media config');
    assert.equal(cfg['m.upload.size'], MAX_UPLOAD, 'the config file limit is advertised');
    const mediaDir = join(ctx.server.dataDir, 'media');
    const filesBefore = filesUnder(mediaDir).sort();

    const big = Buffer.alloc(MAX_UPLOAD + 1, 0x61);
    expectError(await upload(ctx.server, user, big, 'application/octet-stream', 'big.bin'), 413, 'M_TOO_LARGE', 'oversized upload');
    // Without Content-Length (chunked), the limit still holds while streaming.
    const chunked = await fetch(`${ctx.server.baseUrl}/_matrix/media/v3/upload`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${user.accessToken}`, 'Content-Type': 'application/octet-stream' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(MAX_UPLOAD / 2));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413, 'chunked oversized upload');
    assert.equal((await chunked.json()).errcode, 'M_TOO_LARGE');

    assert.deepEqual(await mediaOf(user), [], 'no media recorded for the user');
    assert.deepEqual(filesUnder(mediaDir).sort(), filesBefore, 'no file left in the media store');
    // Exactly at the limit is fine.
    expectOk(await upload(ctx.server, user, Buffer.alloc(MAX_UPLOAD, 0x62), 'application/octet-stream'), 'upload at the limit');
    assert.equal((await mediaOf(user)).length, 1);
  });

  it('should refuse a thumbnail of a non-image with 400 and leave the media as it was', async () => {
    const text = Buffer.from('just words, no pixels\n');
    const { content_uri: mxc } = expectOk(await upload(ctx.server, alice, text, 'text/plain', 'notes.txt'), 'upload text');
    const before = await mediaOf(alice);
    const res = await getBytes(ctx.server, bob, `${V1}/media/thumbnail/${mediaPath(mxc)}?width=96&height=96&method=crop`);
    assert.equal(res.status, 400, `thumbnail of text: HTTP ${res.status} ${res.bytes.toString('utf8').slice(0, 200)}`);
    assert.equal(res.json?.errcode, 'M_UNKNOWN');
    assert.equal(typeof res.json?.error, 'string');
    // An image mislabelled as text is not thumbnailed either.
    const { content_uri: fake } = expectOk(await upload(ctx.server, alice, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png'), 'upload an SVG labelled PNG');
    const res2 = await getBytes(ctx.server, bob, `${V1}/media/thumbnail/${mediaPath(fake)}?width=32&height=32&method=crop`);
    assert.equal(res2.status, 400, 'an SVG is not thumbnailed');

    const dl = await getBytes(ctx.server, bob, `${V1}/media/download/${mediaPath(mxc)}`);
    assert.ok(dl.bytes.equals(text), 'the original is still served unchanged');
    const afterList = await mediaOf(alice);
    assert.deepEqual(
      afterList.filter((m: Json) => before.some((b: Json) => b.media_id === m.media_id)),
      before,
      'the media record is unchanged',
    );
  });

  describe('URL previews', () => {
    let page: LoopbackServer;
    before(async () => {
      page = await startLoopbackServer(() => ({
        headers: { 'Content-Type': 'text/html' },
        body: '<html><head><meta property="og:title" content="Secret intranet page"></head></html>',
      }));
    });
    after(() => page?.close());

    it('should refuse to preview a loopback URL and never contact it', async () => {
      const preview = (url: string) => rawRequest(ctx.server, 'GET', `${V1}/media/preview_url?url=${enc(url)}`, { token: alice.accessToken });
      const before = await mediaOf(alice);
      expectError(await preview(`${page.baseUrl}/intranet`), 403, 'M_FORBIDDEN', 'preview of an IP literal on loopback');
      // A name that resolves to loopback fails like a failed DNS lookup (Synapse: 502).
      expectError(await preview(`http://localhost:${page.port}/intranet`), 502, 'M_UNKNOWN', 'preview of localhost');
      expectError(await preview(`http://[::1]:${page.port}/intranet`), 403, 'M_FORBIDDEN', 'preview of IPv6 loopback');
      assert.deepEqual(page.received, [], 'the loopback server received no request');
      assert.deepEqual(await mediaOf(alice), before, 'no preview image was stored');
    });
  });

  describe('a mention', () => {
    let gateway: LoopbackServer;
    before(async () => {
      gateway = await startLoopbackServer(() => ({ body: JSON.stringify({ rejected: [] }) }));
    });
    after(() => gateway?.close());

    it('should count a highlight in /sync and push the event to the push gateway', async (t) => {
      const pushkey = uniq('pushkey-');
      expectOk(
        await rawRequest(ctx.server, 'POST', `${V3}/pushers/set`, {
          token: bob.accessToken,
          body: {
            kind: 'http',
            app_id: 'org.parley.spec',
            pushkey,
            app_display_name: 'Spec tests',
            device_display_name: 'Gateway',
            lang: 'en',
            data: { url: `${gateway.baseUrl}/_matrix/push/v1/notify` },
          },
        }),
        'set a pusher',
      );
      const pushers = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/pushers`, { token: bob.accessToken }), 'GET /pushers');
      assert.deepEqual(pushers.pushers.map((p: Json) => p.pushkey), [pushkey]);

      const roomId = await createRoom(ctx.server, alice, { preset: 'public_chat', name: 'Mentions' });
      await joinRoom(ctx.server, bob, roomId);
      const bobClient = makeClient(ctx.server, bob);
      t.after(() => bobClient.stop());
      await bobClient.start();

      const plain = expectOk(await sendRaw(ctx.server, alice, roomId, { msgtype: 'm.text', body: 'hello everyone' }), 'plain message').event_id;
      const mention = expectOk(
        await sendRaw(ctx.server, alice, roomId, {
          msgtype: 'm.text',
          body: `${bob.localpart}: look at this`,
          'm.mentions': { user_ids: [bob.userId] },
        }),
        'mention Bob',
      ).event_id as string;

      const counts = await waitUntil(
        async () => {
          const c = (await sync(ctx.server, bob)).rooms?.join?.[roomId]?.unread_notifications;
          return c?.highlight_count === 1 ? c : undefined;
        },
        10_000,
        'highlight_count 1 in /sync',
      );
      assert.equal(counts.notification_count, 2, 'both messages notify, one highlights');
      const room = await bobClient.waitForRoom(roomId, 'the room with a highlight in the SDK', (r) =>
        r.getUnreadNotificationCount(sdk.NotificationCountType.Highlight) === 1,
      );
      assert.equal(room.getUnreadNotificationCount(sdk.NotificationCountType.Total), 2);

      const pushed = await waitUntil(
        () => gateway.received.map((r) => JSON.parse(r.body)).find((b: Json) => b.notification?.event_id === mention),
        15_000,
        'the mention to reach the push gateway',
      );
      assert.ok(gateway.received.every((r) => r.method === 'POST' && r.url === '/_matrix/push/v1/notify'));
      const n = pushed.notification;
      assert.equal(n.room_id, roomId);
      assert.equal(n.sender, alice.userId);
      assert.equal(n.type, 'm.room.message');
      assert.equal(n.content.body, `${bob.localpart}: look at this`);
      assert.equal(n.prio, 'high', 'a highlight is pushed with high priority');
      assert.equal(n.devices[0].pushkey, pushkey);
      assert.equal(n.devices[0].app_id, 'org.parley.spec');
      assert.equal(n.devices[0].tweaks.highlight, true);
      assert.ok(gateway.received.some((r) => JSON.parse(r.body).notification?.event_id === plain), 'the plain message was pushed too');

      const notifs = expectOk(await rawRequest(ctx.server, 'GET', `${V3}/notifications?only=highlight`, { token: bob.accessToken }), '/notifications');
      assert.deepEqual(notifs.notifications.map((x: Json) => x.event.event_id), [mention]);
    });
  });

  it('should refuse a malformed push rule with 400 and keep the ruleset unchanged', async () => {
    const R = `${V3}/pushrules/global`;
    const rules = async () => expectOk(await rawRequest(ctx.server, 'GET', `${V3}/pushrules/`, { token: alice.accessToken }), 'GET /pushrules/');
    const before = await rules();
    const put = (path: string, body: unknown) => rawRequest(ctx.server, 'PUT', `${R}/${path}`, { token: alice.accessToken, body });

    expectError(await put('override/spec.bad', { conditions: [{ kind: 'event_match', key: 'type', pattern: 'x' }] }), 400, 'M_BAD_JSON', 'a rule without actions');
    expectError(await put('override/spec.bad', { actions: 'notify' }), 400, 'M_BAD_JSON', 'actions that are not a list');
    expectError(await put('override/spec.bad', { actions: ['notify'], conditions: [{ key: 'type' }] }), 400, 'M_BAD_JSON', 'a condition without kind');
    expectError(await put('content/spec.bad', { actions: ['notify'] }), 400, 'M_UNKNOWN', 'a content rule without pattern');
    expectError(await put('override/spec.bad', { actions: ['dance'] }), 400, 'M_UNKNOWN', 'an unknown action');
    expectError(await put('override/.m.rule.master', { actions: [] }), 400, 'M_UNKNOWN', 'a rule ID starting with a dot');
    const notJson = await rawRequest(ctx.server, 'PUT', `${R}/override/spec.bad`, { token: alice.accessToken, rawBody: '{"actions": [' });
    expectError(notJson, 400, 'M_NOT_JSON', 'a body that is not JSON');

    expectError(await rawRequest(ctx.server, 'GET', `${R}/override/spec.bad`, { token: alice.accessToken }), 404, 'M_NOT_FOUND', 'the refused rule');
    assert.deepEqual(await rules(), before, 'the ruleset is unchanged');
  });
});
