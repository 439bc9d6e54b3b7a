// GET /media/preview_url through the real HTTP stack, against a real web server on
// 127.0.0.1 that counts the requests it receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { ALICE, withMediaServer } from '../mediaTestkit.js';

const PREVIEW = '/_matrix/client/v1/media/preview_url';

interface Site {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function startSite(pages: Record<string, { type: string; body: Buffer | string; status?: number; location?: string }>): Promise<Site> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const page = pages[req.url ?? ''];
    if (!page) return void res.writeHead(404).end();
    res.writeHead(page.status ?? 200, { 'content-type': page.type, ...(page.location ? { location: page.location } : {}) });
    res.end(page.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const preview = (request: (m: string, p: string, o?: { token?: string }) => Promise<Response>, url: string, ts?: number) =>
  request('GET', `${PREVIEW}?url=${encodeURIComponent(url)}${ts === undefined ? '' : `&ts=${ts}`}`, { token: ALICE.token });

test('it should not serve URL previews unless they are enabled, as Synapse', async () => {
  await withMediaServer({}, async (s) => {
    const res = await preview(s.request, 'https://example.org/');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_UNRECOGNIZED');
  });
});

test('it should refuse loopback and private targets without sending them any request', async () => {
  const site = await startSite({ '/': { type: 'text/html', body: '<title>secret</title>' } });
  try {
    await withMediaServer({ url_preview_enabled: true }, async (s) => {
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::1]', '10.0.0.1', '169.254.169.254']) {
        const res = await preview(s.request, `http://${host}:${site.port}/`);
        assert.equal(res.status, 403, host);
        assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_FORBIDDEN');
      }
      // A name that resolves only to blocked addresses fails like a failed lookup.
      const named = await preview(s.request, `http://localhost:${site.port}/`);
      assert.equal(named.status, 502);
      const scheme = await preview(s.request, 'file:///etc/passwd');
      assert.equal(scheme.status, 400);
    });
    assert.deepEqual(site.hits, []);
  } finally {
    await site.close();
  }
});

test('it should preview an allowed page: OpenGraph fields, its image re-hosted as media, and a cache', async () => {
  const image = await sharp({ create: { width: 120, height: 60, channels: 3, background: '#00aa00' } }).png().toBuffer();
  const site = await startSite({
    '/article': {
      type: 'text/html; charset=utf-8',
      body: `<html><head><meta property="og:title" content="Café &amp; Co">
        <meta property="og:description" content="Fresh news"><meta property="og:image" content="/img/pic.png">
        <meta property="og:type" content="article"></head><body>…</body></html>`,
    },
    '/img/pic.png': { type: 'image/png', body: image },
    '/moved': { type: 'text/plain', body: '', status: 302, location: '/article' },
    '/elsewhere': { type: 'text/plain', body: '', status: 302, location: `http://127.0.0.2:1/internal` },
  });
  try {
    await withMediaServer({ url_preview_enabled: true, url_preview_ip_range_whitelist: ['127.0.0.1/32'] }, async (s) => {
      const res = await preview(s.request, `http://127.0.0.1:${site.port}/article#section`);
      const og = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 200, JSON.stringify(og));
      assert.equal(og['og:title'], 'Café & Co');
      assert.equal(og['og:description'], 'Fresh news');
      assert.equal(og['og:type'], 'article');
      assert.equal(og['og:image:type'], 'image/png');
      assert.equal(og['og:image:width'], 120);
      assert.equal(og['og:image:height'], 60);
      assert.equal(og['matrix:image:size'], image.length);
      const mxc = og['og:image'] as string;
      assert.match(mxc, /^mxc:\/\/media\.test\/[A-Za-z0-9]{24}$/);
      const img = await s.request('GET', `/_matrix/client/v1/media/download/${mxc.slice(6)}`, { token: ALICE.token });
      assert.deepEqual(Buffer.from(await img.arrayBuffer()), image);
      assert.deepEqual(site.hits, ['/article', '/img/pic.png']);

      // Cached: asking again (now, or for a moment since the fetch) does not fetch again.
      const again = await preview(s.request, `http://127.0.0.1:${site.port}/article`, Date.now());
      assert.deepEqual(await again.json(), og);
      assert.equal(site.hits.length, 2);

      // Redirects are followed, and each hop is checked: one to a blocked address is refused.
      const moved = await preview(s.request, `http://127.0.0.1:${site.port}/moved`);
      assert.equal(((await moved.json()) as Record<string, unknown>)['og:title'], 'Café & Co');
      const elsewhere = await preview(s.request, `http://127.0.0.1:${site.port}/elsewhere`);
      assert.equal(elsewhere.status, 403);
      // The target page answering with an error is a 502.
      const missing = await preview(s.request, `http://127.0.0.1:${site.port}/missing`);
      assert.equal(missing.status, 502);
    });
  } finally {
    await site.close();
  }
});
