// The HTTP adapter: turns the declared routes into an express application.
// Per request: CORS → match → read body → authenticate → rate-limit → validate → handler.
// Everything thrown becomes `{errcode, error}` with the catalogue's status.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import express, { type Request, type Response, type NextFunction } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import {
  MatrixError,
  badJson,
  invalidParam,
  missingParam,
  methodNotAllowed,
  missingToken,
  notJson,
  tooLarge,
  unknownToken,
  unrecognized,
} from './errors.js';
import type { RateLimiter } from './rateLimiter.js';
import type { BinaryReply, Reply, Requester, Route } from './route.js';
import { JsonText } from './jsonText.js';

/** Resolves access tokens; implemented by the accounts service. */
export interface Authenticator {
  /** `seen`: where the request came from, for the device's last-seen record (admin whois). */
  authenticate(accessToken: string, seen?: { ip: string; userAgent?: string }): Promise<Requester | undefined>;
}

/** Verifies X-Matrix signed requests (routes with auth 'server'); implemented by the federation module. */
export interface ServerAuthenticator {
  /** The verified origin server name; throws a MatrixError (401 M_UNAUTHORIZED, 403) otherwise. */
  authenticateServer(req: { method: string; uri: string; authorization: string | undefined; content: unknown }): Promise<string>;
}

export interface AppDeps {
  routes: Route<unknown, unknown>[];
  authenticator: Authenticator;
  /** Required when any route has auth 'server'. */
  serverAuthenticator?: ServerAuthenticator;
  rateLimiter: RateLimiter | undefined;
  logger: Logger;
  /** Accept the deprecated `access_token` query parameter (client-server-api "Using access tokens"). */
  allowQueryToken: boolean;
}

const DEFAULT_MAX_BODY = 1024 * 1024;

// client-server-api/_index.md "Web Browser Clients"
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

/** `/a/{b}/c` → express `/a/:b/c`. */
const toExpressPath = (p: string) => p.replace(/\{(\w+)\}/g, ':$1');
/** `/a/{b}/c` → a matcher used to tell 405 (known path) from 404. */
const toRegExp = (p: string) =>
  new RegExp('^' + p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{\w+\\?\}/g, '[^/]+') + '/?$');

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    res.set(CORS_HEADERS);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });

  // GET routes without path parameters or body (/sync above all) are answered on plain
  // node:http, found with one map lookup: express would walk every route's pattern and give
  // each request its own prototype (a hidden class per request, held as long as a long-poll).
  const plain = new Map<string, Route<unknown, unknown>>();
  const seen = new Set<string>();
  deps.routes.forEach((r, i) => {
    if (r.method !== 'GET' || seen.has(r.path)) return;
    // The first route declared for a path is the one express would run.
    seen.add(r.path);
    if (r.path.includes('{') || r.body || r.rawBody || r.auth === 'server') return;
    // Unless a pattern registered before it also matches: express would pick that one.
    const shadowed = deps.routes.slice(0, i).some((o) => o.method === 'GET' && o.path.includes('{') && toRegExp(o.path).test(r.path));
    if (!shadowed) plain.set(r.path, r);
  });
  type Handle = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => void;
  const withHandle = app as unknown as { handle: Handle };
  const expressHandle = withHandle.handle.bind(app);
  withHandle.handle = (req, res, next) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const r = req.method === 'GET' ? plain.get(q < 0 ? url : url.slice(0, q)) : undefined;
    if (!r) {
      expressHandle(req, res, next);
      return;
    }
    void handlePlain(r, req, res, q < 0 ? '' : url.slice(q + 1), deps, queries);
  };
  const queries = new QueryCache();

  for (const r of deps.routes) {
    const method = r.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    app[method](toExpressPath(r.path), (req, res, next) => {
      handle(r, req, res, deps).catch(next);
    });
  }

  const known = deps.routes.map((r) => toRegExp(r.path));
  app.use((req, _res, next) => {
    next(known.some((re) => re.test(req.path)) ? methodNotAllowed() : unrecognized());
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err instanceof MatrixError ? err : asMatrixError(err, deps.logger, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body left unread (e.g. an upload refused half-way) would stall a kept-alive connection.
    if (!req.complete) res.set('Connection', 'close');
    res.status(e.status).set(e.headers).json(e.toJSON());
  });
  return app;
}

/**
 * Validated query parameters by route and query string. The syncs one change wakes all poll
 * again with the same `since`, filter and timeout: they share one parse and validation.
 * Results are frozen (handlers read them only); strings carrying a token are not kept.
 */
class QueryCache {
  private static readonly MAX = 512;
  private readonly entries = new Map<string, Record<string, unknown>>();

  of(r: Route<unknown, unknown>, raw: string): { raw: Record<string, unknown>; validated: () => unknown } {
    const schema = r.query;
    const key = `${r.path}?${raw}`;
    const hit = schema ? this.entries.get(key) : undefined;
    // A kept string has no access_token parameter, the only one read before validation.
    if (hit) return { raw: {}, validated: () => hit };
    const query = raw === '' ? {} : (parseQueryString(raw) as Record<string, unknown>);
    if (!schema) return { raw: query, validated: () => query };
    return {
      raw: query,
      validated: () => {
        const v = validate(schema, query, 'query parameter', invalidParam, missingParam);
        if (typeof v === 'object' && v !== null && query.access_token === undefined) {
          this.entries.set(key, Object.freeze(v) as Record<string, unknown>);
          if (this.entries.size > QueryCache.MAX) this.entries.delete(this.entries.keys().next().value!);
        }
        return v;
      },
    };
  }
}

/** A GET route without body or path parameters, without express (see createApp). */
async function handlePlain(r: Route<unknown, unknown>, req: IncomingMessage, res: ServerResponse, rawQuery: string, deps: AppDeps, queries: QueryCache): Promise<void> {
  // Read the (empty) request to its end now: node:http otherwise drains it when the answer
  // is sent, which for a long-poll is in the burst of answers one change wakes.
  req.resume();
  let reply: Promise<Reply>;
  try {
    const { raw: query, validated } = queries.of(r, rawQuery);
    const ip = req.socket.remoteAddress ?? '';
    const requester = await authenticate(r, { headers: req.headers, query, ip }, deps);
    if (r.rateLimit && deps.rateLimiter) deps.rateLimiter.take(r.rateLimit, requester?.userId ?? ip);
    const ctx = {
      params: {},
      query: validated(),
      body: undefined,
      requester,
      origin: undefined,
      ip,
      headers: req.headers,
      raw: undefined,
    };
    reply = Promise.resolve(r.handler(ctx as never));
  } catch (err) {
    failPlain(err, req, res, deps);
    return;
  }
  // Not awaited: a held long-poll keeps these two callbacks alive rather than this call's
  // frame (thousands are held at once; less to keep is less for the collector to copy).
  reply.then((rep) => sendPlain(res, rep)).catch((err: unknown) => failPlain(err, req, res, deps));
}

function sendPlain(res: ServerResponse, reply: Reply): Promise<void> | undefined {
  if ('binary' in reply) {
    setCors(res);
    res.statusCode = reply.status ?? 200;
    if (reply.headers) for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
    return sendBinary(res, reply);
  }
  // The hot path (every /sync): the status line and all headers in one writeHead with a
  // flat list, and the body handed to end() once (no per-header bookkeeping). A shared
  // answer goes as its bytes, encoded once for all who get it (http/jsonText.ts).
  const body = reply.body instanceof JsonText ? reply.body.bytes : (JSON.stringify(reply.body) ?? '');
  let head = JSON_HEAD;
  if (reply.headers) {
    head = JSON_HEAD.slice();
    for (const [k, v] of Object.entries(reply.headers)) head.push(k, v);
  }
  // writeHead reads the list at once: the shared one only needs this response's length.
  head[JSON_HEAD_LENGTH] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  res.writeHead(reply.status ?? 200, head);
  res.end(body);
  return undefined;
}

function failPlain(err: unknown, req: IncomingMessage, res: ServerResponse, deps: AppDeps): void {
  const e = err instanceof MatrixError ? err : asMatrixError(err, deps.logger, { method: req.method ?? 'GET', path: (req.url ?? '').split('?')[0] });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (!req.complete) res.setHeader('Connection', 'close');
  setCors(res);
  res.statusCode = e.status;
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  sendJson(res, e.toJSON());
}

const JSON_TYPE = 'application/json; charset=utf-8';
const CORS_FLAT = Object.entries(CORS_HEADERS).flat();
/** The headers of a JSON answer as writeHead's flat list; the last value is the length. */
const JSON_HEAD: string[] = [...CORS_FLAT, 'Content-Type', JSON_TYPE, 'Content-Length', ''];
const JSON_HEAD_LENGTH = JSON_HEAD.length - 1;

function setCors(res: ServerResponse): void {
  for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
}

/** As express's res.json (no ETag: disabled in createApp). */
function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body) ?? '';
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

async function handle(r: Route<unknown, unknown>, req: Request, res: Response, deps: AppDeps): Promise<void> {
  const limit = r.maxBodyBytes ?? DEFAULT_MAX_BODY;
  if (r.rawBody && Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge();
  const body = r.body ? await readJsonBody(req, limit) : undefined;
  const requester = await authenticate(r, req, deps);
  const origin = r.auth === 'server' ? await authenticateServer(req, body, deps) : undefined;
  if (r.rateLimit && deps.rateLimiter) deps.rateLimiter.take(r.rateLimit, requester?.userId ?? origin ?? req.ip ?? '?');
  const ctx = {
    params: req.params as Record<string, string>,
    // A bad query parameter is a parameter with the wrong value (M_INVALID_PARAM); a bad body is bad JSON.
    query: r.query ? validate(r.query, req.query, 'query parameter', invalidParam, missingParam) : req.query,
    body: r.body ? validate(r.body, body, 'field', badJson) : undefined,
    requester,
    origin,
    ip: req.ip ?? '',
    headers: req.headers,
    raw: r.rawBody ? limitedBody(req, limit) : undefined,
  };
  const reply = await r.handler(ctx as never);
  res.status(reply.status ?? 200);
  if (reply.headers) res.set(reply.headers);
  if ('binary' in reply) await sendBinary(res, reply);
  else res.json(reply.body);
}

/** The request body as a stream that fails with M_TOO_LARGE once it passes `limit` bytes. */
function limitedBody(req: Request, limit: number): Readable {
  let size = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > limit ? tooLarge() : null, chunk);
    },
  });
  // pipe() does not forward errors: a client that hangs up must still end the reader.
  req.on('error', (e) => limited.destroy(e));
  req.on('close', () => {
    if (!req.complete) limited.destroy(new Error('client closed the request before the body ended'));
  });
  return req.pipe(limited);
}

async function sendBinary(res: ServerResponse, reply: BinaryReply): Promise<void> {
  // Set verbatim: express would rewrite the media type (e.g. add a charset).
  res.setHeader('Content-Type', reply.contentType);
  if (reply.length !== undefined) res.setHeader('Content-Length', String(reply.length));
  if (Buffer.isBuffer(reply.binary)) {
    res.end(reply.binary);
    return;
  }
  try {
    await pipeline(reply.binary, res);
  } catch {
    // The client went away or the source failed after the headers were sent: nothing to answer.
    res.destroy();
  }
}

/** What authentication reads of a request (an express Request has it). */
interface RequestView {
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
  ip?: string;
}

async function authenticate(r: Route<unknown, unknown>, req: RequestView, deps: AppDeps): Promise<Requester | undefined> {
  if (r.auth === 'none' || r.auth === 'server') return undefined;
  const token = accessTokenOf(req, deps.allowQueryToken);
  if (!token) {
    if (r.auth === 'user') throw missingToken();
    return undefined;
  }
  const ua = req.headers['user-agent'];
  const requester = await deps.authenticator.authenticate(token, { ip: req.ip ?? '', ...(ua ? { userAgent: ua } : {}) });
  if (!requester) throw unknownToken();
  return requester;
}

// Spec: server-server-api.md "Request Authentication" — checked before the request does any work.
function authenticateServer(req: Request, body: unknown, deps: AppDeps): Promise<string> {
  if (!deps.serverAuthenticator) throw new Error('a route declared auth "server" but no server authenticator was given');
  // The signed JSON has `content` only when the request carried a body (readJsonBody gives {} for none).
  const hadBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  return deps.serverAuthenticator.authenticateServer({
    method: req.method,
    uri: req.originalUrl,
    authorization: req.headers.authorization,
    content: hadBody ? body : undefined,
  });
}

function accessTokenOf(req: RequestView, allowQuery: boolean): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  const q = req.query.access_token;
  return allowQuery && typeof q === 'string' ? q : undefined;
}

function readJsonBody(req: Request, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Over the limit: answer 413 now and discard the rest (destroying the socket
      // would lose the answer); the error handler closes the connection afterwards.
      if (size > limit) {
        if (!failed) reject(tooLarge());
        failed = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      // Some clients send no body where the spec's body has only optional fields.
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(notJson('Request body is not valid JSON'));
      }
    });
  });
}

function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
  error: (msg: string) => MatrixError,
  missing: (msg: string) => MatrixError = error,
): T {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  const path = issue.path.join('.');
  const where = path ? `${what} '${path}'` : 'request';
  if (issue.code === 'invalid_type' && issue.input === undefined) throw missing(`Missing ${where}`);
  throw error(`Invalid ${where}: ${issue.message}`);
}

function asMatrixError(err: unknown, logger: Logger, req: { method: string; path: string }): MatrixError {
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') return tooLarge();
  if (type === 'entity.parse.failed') return notJson();
  logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
  return new MatrixError(500, 'M_UNKNOWN', 'Internal server error');
}
