import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectTarget, RawRequest, RawResult } from './httpsConnector.js';
import { createWellKnownFetcher } from './wellKnownFetcher.js';

/** A connector answering from a table keyed by `host:port path`. */
function fakeConnector(table: Record<string, { status: number; location?: string; body?: string }>) {
  const calls: { target: ConnectTarget; req: RawRequest }[] = [];
  return {
    calls,
    async request(target: ConnectTarget, req: RawRequest): Promise<RawResult> {
      calls.push({ target, req });
      const hit = table[`${target.host}:${target.port} ${req.path}`];
      if (hit === undefined) return { ok: false, kind: 'network', error: 'refused' };
      const headers = hit.location === undefined ? {} : { location: hit.location };
      return { ok: true, response: { status: hit.status, headers, body: Buffer.from(hit.body ?? '') } };
    },
  };
}

test('it should fetch the well-known document from the hostname on port 443 with small limits', async () => {
  const c = fakeConnector({ 'a.test:443 /.well-known/matrix/server': { status: 200, body: '{"m.server":"hs.a.test:8448"}' } });
  const res = await createWellKnownFetcher(c).fetch('a.test');
  assert.ok(res.ok);
  assert.equal(res.body.toString(), '{"m.server":"hs.a.test:8448"}');
  assert.deepEqual(c.calls[0].target, { host: 'a.test', port: 443, hostHeader: 'a.test', tlsName: 'a.test' });
  assert.equal(c.calls[0].req.maxResponseBytes, 50 * 1024);
  assert.equal(c.calls[0].req.timeoutMs, 10_000);
});

test('it should follow HTTPS redirects but not loops or downgrades', async () => {
  const c = fakeConnector({
    'a.test:443 /.well-known/matrix/server': { status: 301, location: 'https://www.a.test:8443/wk' },
    'www.a.test:8443 /wk': { status: 200, body: '{}' },
    'loop.test:443 /.well-known/matrix/server': { status: 302, location: '/again' },
    'loop.test:443 /again': { status: 302, location: '/.well-known/matrix/server' },
    'plain.test:443 /.well-known/matrix/server': { status: 302, location: 'http://plain.test/x' },
  });
  const fetcher = createWellKnownFetcher(c);
  const ok = await fetcher.fetch('a.test');
  assert.ok(ok.ok && ok.status === 200);
  assert.deepEqual(c.calls[1].target, { host: 'www.a.test', port: 8443, hostHeader: 'www.a.test:8443', tlsName: 'www.a.test' });
  assert.equal((await fetcher.fetch('loop.test')).ok, false);
  assert.equal((await fetcher.fetch('plain.test')).ok, false);
  assert.equal((await fetcher.fetch('down.test')).ok, false);
});
