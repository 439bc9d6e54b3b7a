// The media repository through the real HTTP stack: what a client sees when it
// uploads, downloads and asks for thumbnails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { ALICE, BOB, SERVER, withMediaServer, type MediaTestServer } from '../../media/mediaTestkit.js';

const V1 = '/_matrix/client/v1/media';

async function upload(s: MediaTestServer, body: Buffer | string, contentType?: string, filename?: string): Promise<string> {
  const q = filename === undefined ? '' : `?filename=${encodeURIComponent(filename)}`;
  const res = await s.request('POST', `/_matrix/media/v3/upload${q}`, {
    token: ALICE.token,
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: contentType ? { 'content-type': contentType } : {},
  });
  const json = (await res.json()) as { content_uri: string };
  assert.equal(res.status, 200, JSON.stringify(json));
  assert.match(json.content_uri, new RegExp(`^mxc://${SERVER}/[A-Za-z0-9]{24}$`));
  return json.content_uri.slice('mxc://'.length);
}

async function expectError(res: Response, status: number, errcode: string) {
  const json = (await res.json()) as { errcode: string };
  assert.equal(res.status, status, JSON.stringify(json));
  assert.equal(json.errcode, errcode);
}

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toBuffer();

test('it should return uploaded bytes unchanged with the safe download headers', async () => {
  await withMediaServer({}, async (s) => {
    const bytes = randomBytes(300_000);
    const id = await upload(s, bytes, 'application/octet-stream', 'data.bin');
    const res = await s.request('GET', `${V1}/download/${id}`, { token: BOB.token });
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.equal(res.headers.get('content-length'), '300000');
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="data.bin"');
    assert.match(res.headers.get('content-security-policy')!, /^sandbox; default-src 'none'; script-src 'none';/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
  });
});

test('it should serve images and plain text inline under their declared type and keep the file name', async () => {
  await withMediaServer({}, async (s) => {
    const text = await upload(s, 'hello world', 'text/plain', 'notes.txt');
    const t = await s.request('GET', `${V1}/download/${text}`, { token: ALICE.token });
    assert.equal(await t.text(), 'hello world');
    assert.equal(t.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(t.headers.get('content-disposition'), 'inline; filename="notes.txt"');

    const img = await upload(s, await png(10, 10), 'image/png', 'Straße «1».png');
    const i = await s.request('GET', `${V1}/download/${img}`, { token: ALICE.token });
    assert.equal(i.headers.get('content-type'), 'image/png');
    assert.equal(i.headers.get('content-disposition'), "inline; filename*=utf-8''Stra%C3%9Fe%20%C2%AB1%C2%BB.png");

    // The file name in the path replaces the uploaded one; no name at upload → none in the header.
    const o = await s.request('GET', `${V1}/download/${img}/other.png`, { token: ALICE.token });
    assert.equal(o.headers.get('content-disposition'), 'inline; filename="other.png"');
    const noName = await upload(s, 'x', 'text/plain');
    assert.equal((await s.request('GET', `${V1}/download/${noName}`, { token: ALICE.token })).headers.get('content-disposition'), 'inline');
  });
});

test('it should serve uploaded HTML and SVG only as sandboxed attachments, even when declared as text', async () => {
  await withMediaServer({}, async (s) => {
    const page = '<!DOCTYPE html><html><script>alert(document.cookie)</script></html>';
    for (const declared of ['text/html', 'text/plain']) {
      const id = await upload(s, page, declared, 'page.html');
      const res = await s.request('GET', `${V1}/download/${id}`, { token: ALICE.token });
      assert.equal(await res.text(), page);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="page.html"');
      assert.match(res.headers.get('content-security-policy')!, /sandbox/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    const svg = await upload(s, '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>', 'image/svg+xml');
    const res = await s.request('GET', `${V1}/download/${svg}`, { token: ALICE.token });
    assert.match(res.headers.get('content-disposition')!, /^attachment/);
    // Bytes that are not the image they claim to be (e.g. an encrypted file) are served as opaque bytes.
    const fake = await upload(s, randomBytes(64), 'image/png');
    const f = await s.request('GET', `${V1}/download/${fake}`, { token: ALICE.token });
    assert.equal(f.headers.get('content-type'), 'application/octet-stream');
    assert.match(f.headers.get('content-disposition')!, /^attachment/);
  });
});

test('it should refuse an upload over the size limit with 413 M_TOO_LARGE and keep nothing of it', async () => {
  await withMediaServer({ max_upload_size: 10_000 }, async (s) => {
    const config = await s.request('GET', `${V1}/config`, { token: ALICE.token });
    assert.deepEqual(await config.json(), { 'm.upload.size': 10_000 });
    // Announced by Content-Length: refused before reading.
    await expectError(await s.request('POST', '/_matrix/media/v3/upload', { token: ALICE.token, body: new Uint8Array(10_001) }), 413, 'M_TOO_LARGE');
    // Streamed without a length: refused once the limit is passed.
    const chunks = [randomBytes(6000), randomBytes(6000)];
    const body = new ReadableStream({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(new Uint8Array(next));
        else c.close();
      },
    });
    const res = await fetch(`${s.base}/_matrix/media/v3/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE.token}` },
      body,
      duplex: 'half',
    } as RequestInit);
    await expectError(res, 413, 'M_TOO_LARGE');
    assert.deepEqual(s.contentFiles(), []);
    assert.deepEqual(s.tempFiles(), []);
    assert.deepEqual(await s.repo.listByUser(ALICE.userId), []);
    // Exactly the limit is fine.
    await upload(s, randomBytes(10_000));
  });
});

test('it should keep identical content once however many times it is uploaded', async () => {
  await withMediaServer({}, async (s) => {
    const bytes = randomBytes(5000);
    const a = await upload(s, bytes);
    const b = await upload(s, bytes, 'application/x-other', 'b.bin');
    assert.notEqual(a, b);
    assert.equal(s.contentFiles().length, 1);
    for (const id of [a, b]) {
      assert.deepEqual(Buffer.from(await (await s.request('GET', `${V1}/download/${id}`, { token: ALICE.token })).arrayBuffer()), bytes);
    }
  });
});

test('it should require a token on the authenticated endpoints and answer 404 for unknown, malformed or remote media', async () => {
  await withMediaServer({}, async (s) => {
    const id = await upload(s, 'x', 'text/plain');
    await expectError(await s.request('GET', `${V1}/download/${id}`), 401, 'M_MISSING_TOKEN');
    await expectError(await s.request('GET', `${V1}/config`), 401, 'M_MISSING_TOKEN');
    await expectError(await s.request('POST', '/_matrix/media/v3/upload', { body: 'x' }), 401, 'M_MISSING_TOKEN');
    await expectError(await s.request('GET', `${V1}/download/${SERVER}/nope`, { token: ALICE.token }), 404, 'M_NOT_FOUND');
    await expectError(await s.request('GET', `${V1}/download/${SERVER}/..%2F..%2Fetc`, { token: ALICE.token }), 404, 'M_NOT_FOUND');
    await expectError(await s.request('GET', `${V1}/download/other.example/${id.split('/')[1]}`, { token: ALICE.token }), 404, 'M_NOT_FOUND');
  });
});

test('it should freeze the unauthenticated endpoints for new media by default and serve them when configured', async () => {
  await withMediaServer({}, async (s) => {
    const id = await upload(s, 'frozen', 'text/plain');
    await expectError(await s.request('GET', `/_matrix/media/v3/download/${id}`), 404, 'M_NOT_FOUND');
    await expectError(await s.request('GET', `/_matrix/media/v3/thumbnail/${id}?width=32&height=32`), 404, 'M_NOT_FOUND');
  });
  await withMediaServer({ legacy_unauthenticated: true }, async (s) => {
    const id = await upload(s, 'open', 'text/plain', 'o.txt');
    const res = await s.request('GET', `/_matrix/media/v3/download/${id}`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'open');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="o.txt"');
    assert.match(res.headers.get('content-security-policy')!, /sandbox/);
    const cfg = await s.request('GET', '/_matrix/media/v3/config', { token: ALICE.token });
    assert.equal(cfg.status, 200);
  });
});

test('it should make thumbnails that keep the aspect ratio when scaling and are exact when cropping', async () => {
  await withMediaServer({}, async (s) => {
    const id = await upload(s, await png(400, 200), 'image/png', 'wide.png');
    const crop = await s.request('GET', `${V1}/thumbnail/${id}?width=96&height=96&method=crop`, { token: ALICE.token });
    assert.equal(crop.status, 200);
    assert.equal(crop.headers.get('content-type'), 'image/png');
    assert.equal(crop.headers.get('content-disposition'), 'inline; filename="thumbnail.png"');
    const c = await sharp(Buffer.from(await crop.arrayBuffer())).metadata();
    assert.deepEqual([c.format, c.width, c.height], ['png', 96, 96]);

    const scale = await s.request('GET', `${V1}/thumbnail/${id}?width=96&height=96&method=scale`, { token: ALICE.token });
    const m = await sharp(Buffer.from(await scale.arrayBuffer())).metadata();
    assert.equal(m.width! / m.height!, 2);
    assert.ok(m.width! >= 96 && m.height! >= 96, `${m.width}x${m.height} is smaller than asked`);
    assert.ok(m.width! < 400, 'a thumbnail is smaller than the original');

    // The same request again is answered from the cache with the same bytes.
    const again = await s.request('GET', `${V1}/thumbnail/${id}?width=96&height=96&method=crop`, { token: ALICE.token });
    const first = await s.request('GET', `${V1}/thumbnail/${id}?width=90&height=90&method=crop`, { token: ALICE.token });
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), Buffer.from(await first.arrayBuffer()));
    assert.ok(await s.repo.getThumbnail(id.split('/')[1], { method: 'crop', width: 96, height: 96, animated: false }));
  });
});

test('it should never upscale: content smaller than asked comes back as it is', async () => {
  await withMediaServer({}, async (s) => {
    const small = await png(40, 30);
    const id = await upload(s, small, 'image/png');
    const res = await s.request('GET', `${V1}/thumbnail/${id}?width=96&height=96&method=crop`, { token: ALICE.token });
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), small);
    // Larger than a 32x32 crop in one dimension only: the largest square that fits, not an enlargement.
    const tall = await upload(s, await png(20, 200), 'image/png');
    const t = await sharp(Buffer.from(await (await s.request('GET', `${V1}/thumbnail/${tall}?width=32&height=32&method=crop`, { token: ALICE.token })).arrayBuffer())).metadata();
    assert.deepEqual([t.width, t.height], [20, 20]);
  });
});

test('it should thumbnail JPEG as JPEG and animate a GIF only when asked', async () => {
  await withMediaServer({}, async (s) => {
    const jpeg = await sharp({ create: { width: 1000, height: 800, channels: 3, background: '#336699' } }).jpeg().toBuffer();
    const jid = await upload(s, jpeg, 'image/jpeg');
    const j = await s.request('GET', `${V1}/thumbnail/${jid}?width=320&height=240`, { token: ALICE.token });
    assert.equal(j.headers.get('content-type'), 'image/jpeg');
    const jm = await sharp(Buffer.from(await j.arrayBuffer())).metadata();
    assert.deepEqual([jm.width, jm.height], [300, 240]);

    const frames = await Promise.all([0, 1, 2].map((i) => sharp({ create: { width: 300, height: 200, channels: 4, background: { r: 80 * i, g: 0, b: 0, alpha: 1 } } }).png().toBuffer()));
    const gif = await sharp(frames, { join: { animated: true } }).gif().toBuffer();
    const gid = await upload(s, gif, 'image/gif');
    const still = await s.request('GET', `${V1}/thumbnail/${gid}?width=96&height=96&method=crop`, { token: ALICE.token });
    assert.equal(still.headers.get('content-type'), 'image/png');
    assert.equal((await sharp(Buffer.from(await still.arrayBuffer())).metadata()).pages ?? 1, 1);
    const moving = await s.request('GET', `${V1}/thumbnail/${gid}?width=96&height=96&method=crop&animated=true`, { token: ALICE.token });
    assert.equal(moving.headers.get('content-type'), 'image/webp');
    const mm = await sharp(Buffer.from(await moving.arrayBuffer()), { animated: true }).metadata();
    assert.deepEqual([mm.pages, mm.width, mm.pageHeight], [3, 96, 96]);
  });
});

test('it should answer 400 M_UNKNOWN for a thumbnail of something that is not an image', async () => {
  await withMediaServer({}, async (s) => {
    const text = await upload(s, 'just text', 'text/plain');
    await expectError(await s.request('GET', `${V1}/thumbnail/${text}?width=32&height=32`, { token: ALICE.token }), 400, 'M_UNKNOWN');
    const liar = await upload(s, 'not really a png', 'image/png');
    await expectError(await s.request('GET', `${V1}/thumbnail/${liar}?width=32&height=32`, { token: ALICE.token }), 400, 'M_UNKNOWN');
    const img = await upload(s, await png(100, 100), 'image/png');
    await expectError(await s.request('GET', `${V1}/thumbnail/${img}?height=32`, { token: ALICE.token }), 400, 'M_MISSING_PARAM');
    await expectError(await s.request('GET', `${V1}/thumbnail/${img}?width=-3&height=32`, { token: ALICE.token }), 400, 'M_INVALID_PARAM');
    await expectError(await s.request('GET', `${V1}/thumbnail/${img}?width=3&height=32&method=zoom`, { token: ALICE.token }), 400, 'M_INVALID_PARAM');
  });
});

test('it should refuse to thumbnail an image with more pixels than allowed with 413 M_TOO_LARGE', async () => {
  await withMediaServer({ max_image_pixels: 100 * 100 }, async (s) => {
    const id = await upload(s, await png(101, 100), 'image/png');
    await expectError(await s.request('GET', `${V1}/thumbnail/${id}?width=32&height=32&method=crop`, { token: ALICE.token }), 413, 'M_TOO_LARGE');
  });
});

test('it should create a media ID, let only its creator upload to it once, and make waiting downloads see it', async () => {
  await withMediaServer({}, async (s) => {
    const before = Date.now();
    const created = await s.request('POST', '/_matrix/media/v1/create', { token: ALICE.token, body: '{}', headers: { 'content-type': 'application/json' } });
    const { content_uri, unused_expires_at } = (await created.json()) as { content_uri: string; unused_expires_at: number };
    assert.match(content_uri, /^mxc:\/\/media\.test\/[A-Za-z0-9]{24}$/);
    assert.ok(unused_expires_at >= before + 24 * 3600_000 - 1000 && unused_expires_at <= Date.now() + 24 * 3600_000);
    const id = content_uri.slice('mxc://'.length);

    await expectError(await s.request('GET', `${V1}/download/${id}?timeout_ms=50`, { token: ALICE.token }), 504, 'M_NOT_YET_UPLOADED');
    const waiting = s.request('GET', `${V1}/download/${id}?timeout_ms=10000`, { token: BOB.token });

    const put = (token: string, body: string) =>
      s.request('PUT', `/_matrix/media/v3/upload/${id}?filename=later.txt`, { token, body, headers: { 'content-type': 'text/plain' } });
    await expectError(await put(BOB.token, 'bob was here'), 403, 'M_FORBIDDEN');
    const ok = await put(ALICE.token, 'arrived later');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), {});
    await expectError(await put(ALICE.token, 'again'), 409, 'M_CANNOT_OVERWRITE_MEDIA');

    const res = await waiting;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'arrived later');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="later.txt"');
    await expectError(await s.request('PUT', `/_matrix/media/v3/upload/${SERVER}/neverCreated`, { token: ALICE.token, body: 'x' }), 404, 'M_NOT_FOUND');
  });
});

test('it should limit pending async uploads per user with 429 M_LIMIT_EXCEEDED', async () => {
  await withMediaServer({ max_pending_uploads: 2 }, async (s) => {
    const create = (token: string) => s.request('POST', '/_matrix/media/v1/create', { token });
    const first = (await (await create(ALICE.token)).json()) as { content_uri: string };
    assert.equal((await create(ALICE.token)).status, 200);
    const refused = await create(ALICE.token);
    const body = (await refused.json()) as { errcode: string; retry_after_ms: number };
    assert.equal(refused.status, 429);
    assert.equal(body.errcode, 'M_LIMIT_EXCEEDED');
    assert.ok(body.retry_after_ms > 0);
    // Another user has their own allowance; an upload frees a slot.
    assert.equal((await create(BOB.token)).status, 200);
    const put = await s.request('PUT', `/_matrix/media/v3/upload/${first.content_uri.slice(6)}`, { token: ALICE.token, body: 'x' });
    assert.equal(put.status, 200);
    assert.equal((await create(ALICE.token)).status, 200);
  });
});
