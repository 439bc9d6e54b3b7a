// Test support: serve FederationRoutes over real HTTPS (or call them in-process),
// authenticating `auth: 'server'` routes with X-Matrix as the real adapter will.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FederationContext, FederationReply, FederationRoute } from '../api/route.js';
import type { FederationRequest, FederationRequester, FederationResult } from './federationClient.js';
import { interpret } from './federationClient.js';
import { verifyRequest, type RequestKeyLookup } from './xMatrix.js';

export interface TestServer {
  port: number;
  server: Server;
  close(): Promise<void>;
}

interface Matched {
  route: FederationRoute;
  params: Record<string, string>;
}

function match(routes: readonly FederationRoute[], method: string, path: string): Matched | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const names: string[] = [];
    const re = new RegExp('^' + route.path.replace(/\{(\w+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)')) + '$');
    const m = re.exec(path);
    if (m) return { route, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return undefined;
}

/** Run a request through `routes` like the HTTP adapter would. */
export async function dispatch(
  routes: readonly FederationRoute[],
  req: { method: string; uri: string; body: unknown; authorization?: string },
  auth?: { serverName: string; keys: RequestKeyLookup },
): Promise<FederationReply> {
  const url = new URL(req.uri, 'https://x');
  const m = match(routes, req.method, url.pathname);
  if (m === undefined) return { status: 404, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } };
  const ctx: FederationContext = { params: m.params, query: Object.fromEntries(url.searchParams), body: req.body };
  if (m.route.auth === 'server') {
    if (auth === undefined) throw new Error('server-authenticated route without auth config');
    const res = await verifyRequest({ method: req.method, uri: req.uri, authorization: req.authorization, content: req.body }, auth.serverName, auth.keys);
    if (!res.ok) return { status: res.status, body: { errcode: res.errcode, error: res.error } };
    ctx.origin = res.origin;
  }
  return m.route.handler(ctx);
}

export async function startTestServer(
  tls: { cert: string; key: string },
  routes: readonly FederationRoute[],
  auth?: { serverName: string; keys: RequestKeyLookup },
): Promise<TestServer> {
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw === '' ? undefined : JSON.parse(raw);
      dispatch(routes, { method: req.method ?? 'GET', uri: req.url ?? '/', body, authorization: req.headers.authorization }, auth)
        .then((reply) => {
          res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json', ...reply.headers });
          res.end(JSON.stringify(reply.body));
        })
        .catch((err: Error) => {
          res.writeHead(500, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ errcode: 'M_UNKNOWN', error: err.message }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A FederationRequester that calls each destination's routes in-process; unknown destinations are unreachable. */
export function inProcessRequester(servers: Record<string, readonly FederationRoute[]>, log: FederationRequest[] = []): FederationRequester {
  return {
    async request<T>(req: FederationRequest): Promise<FederationResult<T>> {
      log.push(req);
      const routes = servers[req.destination];
      if (routes === undefined) return { ok: false, kind: 'network', status: 0, errcode: 'PARLEY_NETWORK', error: 'unreachable' };
      const reply = await dispatch(routes, { method: req.method, uri: req.path, body: req.body });
      return interpret<T>(reply.status ?? 200, undefined, Buffer.from(JSON.stringify(reply.body)));
    },
  };
}
