// The `parley` command as an operator runs it: the real process, its flags, HTTPS, and a
// SIGTERM in the middle of a send load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './testing/freePort.js';

const CLI = new URL(`./cli${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

// Self-signed for 127.0.0.1 (subjectAltName IP:127.0.0.1), valid until 2126: a test fixture only.
const CERT = `-----BEGIN CERTIFICATE-----
MIIBjzCCATagAwIBAgIUJVPFLrzSPTP4ncCL42Cai57O03cwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyMzIwMDYxM1oYDzIxMjYxMDMw
MjAwNjEzWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQqiOIYcZF4dA5kInKG61oIDCoGoqdWyjjaVeTASTW1GRH9YYtSAqAp
Q2zpUi+vP8V5AlCjBxtg+hOmVBvm0k6vo2QwYjAdBgNVHQ4EFgQUBHPTWIiyjHtn
KHFMIhEJDRHYT6gwHwYDVR0jBBgwFoAUBHPTWIiyjHtnKHFMIhEJDRHYT6gwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0cAMEQC
IGEg+nqb1MK2jCsl6s+WjwILusls+M2HATVNQ2e9DCpSAiAgPUdzJoGTzriDlyGX
NUZubM5fv8/41shn1zditUK+2A==
-----END CERTIFICATE-----
`;
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1qn9Es/qzM2qjdAI
HcOIkM+UzCOZ8c//nC5+vJZnOgahRANCAAQqiOIYcZF4dA5kInKG61oIDCoGoqdW
yjjaVeTASTW1GRH9YYtSAqApQ2zpUi+vP8V5AlCjBxtg+hOmVBvm0k6v
-----END PRIVATE KEY-----
`;

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `parley ARGS` in a child process (the compiled or the tsx-loaded cli, like this file). */
function parley(args: string[]): Run {
  const code = `const { main } = await import(${JSON.stringify(CLI)}); process.exit(await main(process.argv.slice(1)));`;
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', code, '--', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (c, s) => resolve({ code: c, signal: s })));
  return { child, output: () => out, exited };
}

/** Waits for the 'listening' log line (needs --log-level info or lower); kills the child if it never comes. */
async function listening(run: Run): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!run.output().includes('"msg":"listening"')) {
    if (run.child.exitCode !== null) throw new Error(`parley exited early:\n${run.output()}`);
    if (Date.now() > deadline) {
      run.child.kill('SIGKILL');
      throw new Error(`parley did not start:\n${run.output()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}


async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cli-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('it should document every command and every serve flag in --help', { timeout: 30_000 }, async () => {
  const run = parley(['--help']);
  assert.deepEqual(await run.exited, { code: 0, signal: null });
  for (const word of ['parley serve', 'parley admin', '--config FILE', '--server-name NAME', '--listen HOST:PORT', '--data DIR', '--tls-cert FILE', '--tls-key FILE', '--open-registration', '--registration-shared-secret', '--no-rate-limit', '--log-level LEVEL', '--federation-ca FILE']) {
    assert.ok(run.output().includes(word), `--help should mention ${word}`);
  }
});

test('it should serve HTTPS with --tls-cert/--tls-key and accept an IP literal with a port as server name', { timeout: 60_000 }, async () => {
  await withDir(async (dir) => {
    writeFileSync(join(dir, 'cert.pem'), CERT);
    writeFileSync(join(dir, 'key.pem'), KEY);
    const port = await freePort();
    const run = parley(['serve', '--data', join(dir, 'data'), '--listen', `127.0.0.1:${port}`, '--server-name', `127.0.0.1:${port}`,
      '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--log-level', 'info']);
    try {
      await listening(run);
      const getJson = (path: string) =>
        new Promise<{ status: number; json: Record<string, any> }>((resolve, reject) => {
          httpsGet({ host: '127.0.0.1', port, path, ca: CERT }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) as Record<string, any> }));
          }).on('error', reject);
        });
      const versions = await getJson('/_matrix/client/versions');
      assert.equal(versions.status, 200);
      assert.ok(versions.json.versions.includes('v1.18'));
      const wellKnown = await getJson('/.well-known/matrix/client');
      assert.equal(wellKnown.json['m.homeserver'].base_url, `https://127.0.0.1:${port}`);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/_matrix/client/versions`), 'plain HTTP is not served on a TLS listener');
    } finally {
      run.child.kill('SIGTERM');
      assert.deepEqual(await run.exited, { code: 0, signal: null });
    }
  });
});

test('it should finish in-flight sends on SIGTERM, exit 0, and keep every acknowledged event', { timeout: 120_000 }, async (t) => {
  await withDir(async (dir) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/_matrix/client/v3`;
    const args = ['serve', '--data', dir, '--listen', `127.0.0.1:${port}`, '--server-name', `127.0.0.1:${port}`, '--open-registration', '--no-rate-limit', '--log-level', 'info'];
    const call = async (method: string, path: string, token?: string, body?: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, any> };
    };
    let run = parley(args);
    t.after(() => run.child.kill('SIGKILL'));
    await listening(run);
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) {
      const first = await call('POST', '/register', undefined, { username: `u${i}`, password: 'pw' });
      const done = await call('POST', '/register', undefined, { username: `u${i}`, password: 'pw', auth: { type: 'm.login.dummy', session: first.json.session } });
      tokens.push(done.json.access_token as string);
    }
    const roomId = (await call('POST', '/createRoom', tokens[0], { preset: 'public_chat' })).json.room_id as string;
    const room = encodeURIComponent(roomId);
    for (const t of tokens.slice(1)) assert.equal((await call('POST', `/rooms/${room}/join`, t, {})).status, 200);

    const acked: string[] = [];
    const refused: string[] = [];
    let stop = false;
    let inFlight = 0;
    const lanes = tokens.map(async (token, lane) => {
      for (let i = 0; !stop; i++) {
        inFlight++;
        try {
          const res = await call('PUT', `/rooms/${room}/send/m.room.message/l${lane}-${i}`, token, { msgtype: 'm.text', body: `${lane}/${i}` });
          if (res.status === 200) acked.push(res.json.event_id as string);
          else refused.push(`${res.status} ${JSON.stringify(res.json)}`);
        } catch {
          return; // the listener is gone: not acknowledged
        } finally {
          inFlight--;
        }
      }
    });
    while (acked.length < 40 && refused.length === 0) await new Promise((r) => setTimeout(r, 10));
    while (inFlight === 0) await new Promise((r) => setImmediate(r));
    const ackedAtTerm = acked.length;
    const termAt = Date.now();
    run.child.kill('SIGTERM');
    const exit = await run.exited;
    const stoppedIn = Date.now() - termAt;
    stop = true;
    await Promise.all(lanes);
    assert.deepEqual(exit, { code: 0, signal: null }, run.output());
    assert.deepEqual(refused, [], 'in-flight sends finish instead of failing');
    // Stop accepting: each client's request in flight at the signal finishes, and new ones stop. The signal
    // reaches the server's handler a moment after kill() returns, so each client may land one more request
    // in that moment; a server that kept serving during its drain would show many more.
    assert.ok(acked.length - ackedAtTerm <= 2 * tokens.length, `${acked.length - ackedAtTerm} sends were served after SIGTERM`);
    assert.ok(stoppedIn < 5000, `stopping took ${stoppedIn} ms`);
    assert.ok(!run.output().includes('"level":50'), `no errors logged while stopping:\n${run.output()}`);

    run = parley(args);
    await listening(run);
    try {
      for (const id of acked) {
        const res = await call('GET', `/rooms/${room}/event/${encodeURIComponent(id)}`, tokens[1]);
        assert.equal(res.status, 200, `acknowledged event ${id} is missing after the restart`);
      }
    } finally {
      run.child.kill('SIGINT');
      assert.deepEqual(await run.exited, { code: 0, signal: null });
    }
  });
});
