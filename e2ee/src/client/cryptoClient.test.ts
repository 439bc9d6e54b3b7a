// A Node process that used createCryptoClient must exit as soon as it stops the client:
// matrix-js-sdk leaves a 60 s abort timer behind every Rust-crypto request and a ~110 s one
// behind every long-polling /sync (sdkTimers.ts). A child process starts a client against a
// minimal homeserver stand-in served from this process, lets it sync and upload its keys,
// stops it, and must then exit within seconds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CRYPTO_CLIENT = new URL('./cryptoClient.js', import.meta.url).href;
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const STOPPED = 'PARLEY-CLIENT-STOPPED';
const USER = '@alice:test.invalid';

/** Just enough of the client-server API for startClient and the Rust crypto's first requests. */
function fakeHomeserver(seen: string[]): Server {
  let syncs = 0;
  const held = new Set<ServerResponse>();
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const path = url.pathname;
      seen.push(`${req.method} ${path}`);
      if (path === '/_matrix/client/versions') return send(res, 200, { versions: ['v1.1', 'v1.5', 'v1.11'], unstable_features: {} });
      if (/\/user\/[^/]+\/filter$/.test(path)) return send(res, 200, { filter_id: '1' });
      if (path.endsWith('/pushrules/')) return send(res, 200, { global: {} });
      if (path.endsWith('/capabilities')) return send(res, 200, { capabilities: {} });
      if (path.endsWith('/keys/upload')) return send(res, 200, { one_time_key_counts: { signed_curve25519: 50 } });
      if (path.endsWith('/keys/query')) return send(res, 200, { failures: {}, device_keys: {} });
      if (path.endsWith('/sync')) {
        syncs++;
        const body = { next_batch: `s${syncs}`, rooms: {}, to_device: { events: [] }, device_one_time_keys_count: { signed_curve25519: 50 } };
        if (syncs === 1) return send(res, 200, body);
        // A long poll that never answers: the client aborts it when stopped.
        held.add(res);
        res.on('close', () => held.delete(res));
        return;
      }
      send(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    });
  });
  server.on('close', () => {
    for (const res of held) res.destroy();
  });
  return server;
}

/** The child: create, start, wait for the first sync and the key upload, stop. */
function childCode(baseUrl: string): string {
  return `
    const { createCryptoClient } = await import(${JSON.stringify(CRYPTO_CLIENT)});
    let uploaded;
    const keysUploaded = new Promise((resolve) => (uploaded = resolve));
    const fetchFn = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes('/keys/upload') && res.ok) uploaded();
      return res;
    };
    const client = await createCryptoClient({
      baseUrl: ${JSON.stringify(baseUrl)},
      userId: ${JSON.stringify(USER)},
      deviceId: 'EXITTEST',
      accessToken: 'token',
      extra: { fetchFn },
    });
    const prepared = new Promise((resolve) => client.on('sync', (state) => state === 'PREPARED' && resolve()));
    await client.startClient({ initialSyncLimit: 1 });
    await Promise.all([prepared, keysUploaded]);
    // Let the next (long-polling) /sync go out, so that its abort timer is armed too.
    await new Promise((resolve) => setTimeout(resolve, 200));
    client.stopClient();
    console.log(${JSON.stringify(STOPPED)});
  `;
}

interface ChildResult {
  code: number | null;
  /** From the stop marker to the exit, if the marker was printed. */
  msAfterStop: number | undefined;
  timedOut: boolean;
  output: string;
}

function runChild(code: string, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stoppedAt: number | undefined;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('utf8');
      if (stoppedAt === undefined && output.includes(STOPPED)) stoppedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, msAfterStop: stoppedAt === undefined ? undefined : Date.now() - stoppedAt, timedOut, output });
    });
  });
}

const tail = (s: string) => (s.length > 4000 ? '…' + s.slice(-4000) : s);

describe('createCryptoClient in Node', () => {
  const seen: string[] = [];
  let server: Server;
  let baseUrl = '';

  before(async () => {
    server = fakeHomeserver(seen);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('should let the process exit promptly after the client is stopped', async () => {
    // Unfixed, the process lives on for the 60 s of the crypto's /keys/upload abort timer.
    const r = await runChild(childCode(baseUrl), 45_000);
    assert.ok(r.msAfterStop !== undefined, `the child never stopped its client (exit ${r.code}, timed out: ${r.timedOut}):\n${tail(r.output)}`);
    assert.equal(r.timedOut, false, `the process was still alive 45 s after it started (SDK timers holding it open?):\n${tail(r.output)}`);
    assert.equal(r.code, 0, tail(r.output));
    assert.ok(r.msAfterStop < 5_000, `the process took ${r.msAfterStop} ms to exit after stopClient()`);
    // The client really did what arms the timers: a crypto request and a long poll.
    assert.ok(seen.includes('POST /_matrix/client/v3/keys/upload'), `no /keys/upload: ${seen.join(', ')}`);
    assert.ok(seen.filter((s) => s === 'GET /_matrix/client/v3/sync').length >= 2, `no long-polling /sync: ${seen.join(', ')}`);
  });
});
