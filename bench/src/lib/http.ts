// A lean JSON-over-HTTP client on node:http with keep-alive agents, so that the load
// generator is not the bottleneck (fetch/undici would add per-request overhead here).
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { nowMs } from './stats.js';

export interface HttpTarget {
  host: string;
  port: number;
  /** 'https:' with an https.Agent (which carries the CA), e.g. for the bench's remote server. */
  protocol: 'http:' | 'https:';
  agent: Agent;
}

export function makeAgent(maxSockets = 256): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, keepAliveMsecs: 10_000 });
}

export function target(baseUrl: string, agent: Agent = makeAgent()): HttpTarget {
  const u = new URL(baseUrl);
  return { host: u.hostname, port: Number(u.port), protocol: u.protocol === 'https:' ? 'https:' : 'http:', agent };
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Client-side time from request start to the last body byte, ms. */
  ms: number;
  /** nowMs() when the response headers arrived. */
  headersAt: number;
  /** nowMs() when the body ended. */
  endAt: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * One request. A kept-alive socket the server closed while idle fails with ECONNRESET
 * on reuse; as Node's documentation advises, such a request is retried once on a new
 * socket (every request here is idempotent: PUTs carry transaction IDs).
 */
export async function request(t: HttpTarget, method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const start = nowMs();
  try {
    return await requestOnce(t, method, path, opts, start);
  } catch (err) {
    if ((err as { reusedSocket?: boolean }).reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET') return requestOnce(t, method, path, opts, start);
    throw err;
  }
}

function requestOnce(t: HttpTarget, method: string, path: string, opts: RequestOptions, start: number): Promise<Response> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return new Promise<Response>((resolve, reject) => {
    const req = httpRequest({ host: t.host, port: t.port, protocol: t.protocol, method, path, headers, agent: t.agent }, (res) => {
      const headersAt = nowMs();
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const endAt = nowMs();
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        let parsed: unknown;
        let done = false;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          ms: endAt - start,
          headersAt,
          endAt,
          json() {
            if (!done) {
              done = true;
              try {
                parsed = body.length ? JSON.parse(body.toString('utf8')) : undefined;
              } catch {
                parsed = undefined;
              }
            }
            return parsed;
          },
        });
      });
    });
    req.on('error', (err: Error & { reusedSocket?: boolean }) => {
      err.reusedSocket = req.reusedSocket;
      reject(err);
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs ?? 60_000} ms`)));
    if (payload) req.end(payload);
    else req.end();
  });
}

/** Throws with the body when the status is not `want`. */
export function expectStatus(res: Response, want: number, what: string): void {
  if (res.status !== want) throw new Error(`${what}: expected HTTP ${want}, got ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
}

export const enc = encodeURIComponent;
