// Test support: an app (createApp, the real HTTP stack) on an ephemeral 127.0.0.1
// port, and a JSON caller for it.
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createApp, type AppDeps, type Authenticator } from '../http/app.js';
import type { Route } from '../http/route.js';

export interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Send the token as the deprecated `access_token` query parameter instead of a header. */
  tokenInQuery?: boolean;
}

export type Call = (method: string, path: string, opts?: CallOptions) => Promise<Res>;

/** JSON requests to `base`. Every answer but a 204 must be JSON (a Matrix API never answers with nothing). */
export function httpCaller(base: string, defaultHeaders: Record<string, string> = {}): Call {
  return async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...defaultHeaders };
    let url = base + path;
    if (opts.token && opts.tokenInQuery) url += `${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(opts.token)}`;
    else if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    if (res.status === 204 && !text) return { status: 204, json: undefined };
    return { status: res.status, json: JSON.parse(text) };
  };
}

export interface TestHttp {
  base: string;
  call: Call;
  /** Stop listening and wait for open requests; `force` drops kept-alive connections first. */
  close(opts?: { force?: boolean }): Promise<void>;
}

export type TestAppOptions = Partial<Pick<AppDeps, 'allowQueryToken' | 'serverAuthenticator' | 'logger'>>;

/** `routes` behind createApp without rate limits, listening on an ephemeral port. */
export async function serveTestApp(routes: Route<unknown, unknown>[], authenticator: Authenticator, opts: TestAppOptions = {}): Promise<TestHttp> {
  const app = createApp({
    routes,
    authenticator,
    ...(opts.serverAuthenticator ? { serverAuthenticator: opts.serverAuthenticator } : {}),
    rateLimiter: undefined,
    logger: opts.logger ?? pino({ level: 'silent' }),
    allowQueryToken: opts.allowQueryToken ?? false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    call: httpCaller(base),
    async close(o = {}) {
      if (o.force) server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
