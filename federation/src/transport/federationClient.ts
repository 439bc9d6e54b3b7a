// Signed JSON requests to other homeservers: name policy → discovery → guarded HTTPS
// → typed result. Spec: server-server-api.md "API standards", "Request Authentication".
import type { JsonValue } from '../core/types.js';
import type { LocalServerIdentity } from '../ports.js';
import type { ConnectFailureKind, HttpsConnector } from './httpsConnector.js';
import type { OutboundPolicy } from './outboundPolicy.js';
import type { Resolution } from './resolveServer.js';
import { signRequest } from './xMatrix.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface FederationRequest {
  destination: string;
  method: HttpMethod;
  /** Path and query, already percent-encoded, starting with `/_matrix/`. */
  path: string;
  body?: JsonValue;
  /** Add X-Matrix authentication. Default true; the key endpoints need none. */
  signed?: boolean;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/** `denied`: the server-name policy forbids the destination; `blocked`: every address it resolved to is in a blocked range. */
export type FailureKind = ConnectFailureKind | 'denied' | 'http' | 'resolve' | 'invalid_response';

export interface FederationFailure {
  ok: false;
  kind: FailureKind;
  /** HTTP status, or 0 when no response was received. */
  status: number;
  /** The peer's errcode for HTTP errors; `PARLEY_<KIND>` for local failures. */
  errcode: string;
  error: string;
  /** From a 429's `retry_after_ms` or Retry-After header. */
  retryAfterMs?: number;
}

export type FederationResult<T = unknown> = { ok: true; status: number; body: T } | FederationFailure;

/** What the key ring and the destination queues need; fakes implement it in tests. */
export interface FederationRequester {
  request<T = unknown>(req: FederationRequest): Promise<FederationResult<T>>;
}

export interface ServerResolverLike {
  resolve(serverName: string): Promise<Resolution>;
}

export interface FederationClientOptions {
  identity: Pick<LocalServerIdentity, 'serverName' | 'signingKey'>;
  resolver: ServerResolverLike;
  connector: HttpsConnector;
  policy: OutboundPolicy;
  /** Default 60 s (as Synapse). */
  timeoutMs?: number;
  /** Default 64 MiB: state and send_join responses are large. */
  maxResponseBytes?: number;
  userAgent?: string;
}

const local = (kind: FailureKind, error: string): FederationFailure => ({
  ok: false,
  kind,
  status: 0,
  errcode: `PARLEY_${kind.toUpperCase()}`,
  error,
});

export class FederationClient implements FederationRequester {
  constructor(private readonly opts: FederationClientOptions) {}

  async request<T = unknown>(req: FederationRequest): Promise<FederationResult<T>> {
    if (!this.opts.policy.serverNameAllowed(req.destination)) {
      return local('denied', `federation with ${req.destination} is not permitted`);
    }
    const resolved = await this.opts.resolver.resolve(req.destination);
    if (!resolved.ok) return local('resolve', resolved.error);

    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'Parley', Accept: 'application/json' };
    let body: Buffer | undefined;
    if (req.body !== undefined) {
      body = Buffer.from(JSON.stringify(req.body), 'utf8');
      headers['Content-Type'] = 'application/json';
    }
    if (req.signed !== false) {
      const { serverName, signingKey } = this.opts.identity;
      headers.Authorization = signRequest(
        { method: req.method, uri: req.path, origin: serverName, destination: req.destination, content: req.body },
        signingKey,
      );
    }
    const raw = {
      method: req.method,
      path: req.path,
      headers,
      body,
      timeoutMs: req.timeoutMs ?? this.opts.timeoutMs ?? 60_000,
      maxResponseBytes: req.maxResponseBytes ?? this.opts.maxResponseBytes ?? 64 * 1024 * 1024,
      poolKey: req.destination,
    };
    // The next SRV target only when this one was not reached at all (nothing was sent to it).
    // Spec: server-server-api.md "Resolving server names" (SRV records, RFC 2782).
    let res = await this.opts.connector.request(resolved.target, raw);
    for (const next of resolved.fallbacks ?? []) {
      if (res.ok || res.unreached !== true) break;
      res = await this.opts.connector.request(next, raw);
    }
    if (!res.ok) return local(res.kind, res.error);
    return interpret<T>(res.response.status, res.response.headers['retry-after'], res.response.body);
  }
}

/** Map a response to a result: 2xx must carry JSON; errors keep the peer's errcode. */
export function interpret<T>(status: number, retryAfter: string | undefined, raw: Buffer): FederationResult<T> {
  let json: unknown;
  let parsed = true;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    parsed = false;
  }
  if (status >= 200 && status < 300) {
    if (!parsed) return { ...local('invalid_response', 'response is not JSON'), status };
    return { ok: true, status, body: json as T };
  }
  const obj = parsed && typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const failure: FederationFailure = {
    ok: false,
    kind: 'http',
    status,
    errcode: typeof obj.errcode === 'string' ? obj.errcode : 'M_UNKNOWN',
    error: typeof obj.error === 'string' ? obj.error : `HTTP ${status}`,
  };
  if (typeof obj.retry_after_ms === 'number') failure.retryAfterMs = obj.retry_after_ms;
  else if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) failure.retryAfterMs = Number(retryAfter) * 1000;
  return failure;
}
