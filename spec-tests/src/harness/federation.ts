// Federating Parley servers for black-box tests: a throwaway CA (openssl), and per server
// an HTTPS listener whose `127.0.0.1:<port>` is the server name (federation goes there,
// verified against the CA given with --federation-ca) plus a plain HTTP listener for the
// test's clients. Loopback is allowed for federation through the config file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { makeTestPki, type TestPki } from '@parley/federation/transport/testCa';
import { testFailed } from './hooks.js';
import { freePort, startServer, type StartOptions, type TestServer } from './server.js';

export interface FederatedServer {
  /** Client-API access (plain HTTP listener); `serverName` here is the federation name. */
  readonly server: TestServer;
  readonly baseUrl: string;
  /** `127.0.0.1:<https port>`: what user IDs end with and other servers connect to. */
  readonly serverName: string;
}

export interface FederationPki {
  pki: TestPki;
  dir: string;
  dispose(): void;
}

/** One CA and one certificate for 127.0.0.1, shared by every server of a test. */
export function makeFederationPki(): FederationPki {
  const pki = makeTestPki(['IP:127.0.0.1', 'DNS:localhost']);
  const dir = mkdtempSync(join(tmpdir(), 'parley-fedtls-'));
  writeFileSync(join(dir, 'cert.pem'), pki.serverCert);
  writeFileSync(join(dir, 'key.pem'), pki.serverKey);
  return {
    pki,
    dir,
    dispose() {
      pki.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startFederatedServer(tls: FederationPki, opts: StartOptions = {}): Promise<FederatedServer> {
  const httpsPort = await freePort();
  const serverName = `127.0.0.1:${httpsPort}`;
  const config = join(tls.dir, `server-${httpsPort}.yaml`);
  // listeners[0] is replaced by the harness's --listen (the HTTP one); the second is federation's.
  writeFileSync(
    config,
    [
      'listeners:',
      '  - bind: 127.0.0.1:1',
      `  - { bind: "127.0.0.1:${httpsPort}", tls_cert: "${join(tls.dir, 'cert.pem')}", tls_key: "${join(tls.dir, 'key.pem')}" }`,
      'federation:',
      '  ip_range_allowlist: ["127.0.0.1/32"]',
      '',
    ].join('\n'),
  );
  const server = await startServer({
    ...opts,
    extraArgs: ['--config', config, '--server-name', serverName, '--federation-ca', tls.pki.caCertFile, ...(opts.extraArgs ?? [])],
  });
  return { server, baseUrl: server.baseUrl, serverName };
}

/** A minimal remote server run by the test: it publishes a signing key over HTTPS and signs requests with it. */
export interface FakeOrigin {
  readonly serverName: string;
  /** X-Matrix Authorization header for a request to `destination`. */
  sign(method: string, uri: string, destination: string, body?: unknown): string;
  close(): Promise<void>;
}

export async function startFakeOrigin(tls: FederationPki): Promise<FakeOrigin> {
  const { createServer } = await import('node:https');
  const { generateSigningKey } = await import('@parley/federation/signing/ed25519Key');
  const { ownKeyDocument } = await import('@parley/federation/api/keys');
  const { signRequest } = await import('@parley/federation/transport/xMatrix');
  const port = await freePort();
  const serverName = `127.0.0.1:${port}`;
  const key = generateSigningKey();
  const server = createServer({ cert: tls.pki.serverCert, key: tls.pki.serverKey }, (req, res) => {
    if (req.method === 'GET' && req.url === '/_matrix/key/v2/server') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(ownKeyDocument({ serverName, signingKey: key }, Date.now())));
      return;
    }
    res.statusCode = 404;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ errcode: 'M_UNRECOGNIZED', error: 'fake origin' }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    serverName,
    sign: (method, uri, destination, body) => signRequest({ method, uri, origin: serverName, destination, content: body as never }, key),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Registers before/after hooks in the current file (or describe block) that start `count`
 * federating servers sharing one test CA, and dispose of them (and the CA) afterwards; if a
 * test failed, every server's output is printed. A server that did start is disposed of even
 * when another failed to. `ready()` resolves to the servers (await it in the file's own
 * before hook: Node runs top-level hooks as they are registered, not one after another).
 */
export function useFederatedServers(count: number): { ready(): Promise<FederatedServer[]>; readonly tls: FederationPki } {
  let tls: FederationPki | undefined;
  let servers: FederatedServer[] = [];
  let starting: Promise<FederatedServer[]> | undefined;
  let failed = false;
  const ready = (): Promise<FederatedServer[]> => {
    starting ??= (async () => {
      const pki = (tls = makeFederationPki());
      const started = await Promise.allSettled(Array.from({ length: count }, () => startFederatedServer(pki)));
      servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure) throw failure.reason;
      return servers;
    })();
    return starting;
  };
  before(async () => {
    await ready();
  });
  afterEach((t) => {
    if (testFailed(t)) failed = true;
  });
  after(async () => {
    await starting?.catch(() => undefined);
    if (failed) for (const s of servers) s.server.dumpLogs(`a test with ${s.serverName} failed`);
    await Promise.all(servers.map((s) => s.server.dispose()));
    tls?.dispose();
  });
  return {
    ready,
    get tls(): FederationPki {
      if (!tls) throw new Error('test CA not made (did the before hook fail?)');
      return tls;
    },
  };
}
