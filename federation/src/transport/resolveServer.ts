// Server name → where to connect, which Host header to send and which name the
// certificate must match. Spec: server-server-api.md "Resolving server names".
import { resolveSrv } from 'node:dns/promises';
import { parseServerName } from '../core/ids.js';
import { systemClock, type Clock } from './clock.js';
import type { ConnectTarget } from './httpsConnector.js';

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface SrvLookup {
  /** Records for `name`; an empty list (or a rejection) means none. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
}

export const systemSrvLookup: SrvLookup = { resolveSrv: (name) => resolveSrv(name) };

/** A `/.well-known/matrix/server` response, or why none could be had. */
export type WellKnownResponse =
  | { ok: true; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }
  | { ok: false; error: string };

export interface WellKnownFetcher {
  /** GET https://<hostname>/.well-known/matrix/server, following redirects. */
  fetch(hostname: string): Promise<WellKnownResponse>;
}

/**
 * Where to connect: `target` first, then each of `fallbacks` in order when the one before
 * could not be reached (the further SRV records, RFC 2782 order).
 */
export type Resolution = { ok: true; target: ConnectTarget; fallbacks?: ConnectTarget[] } | { ok: false; error: string };

export interface ServerResolverOptions {
  wellKnown: WellKnownFetcher;
  srv?: SrvLookup;
  /** serverName → `host[:port]` (port 8448 if omitted), for names internal DNS cannot serve. */
  overrides?: Readonly<Record<string, string>>;
  clock?: Clock;
  /** SRV answers are reused this long (Node's resolver does not report TTLs). Default 10 min. */
  srvCacheMs?: number;
  /** Injectable for tests: orders equal-priority SRV records by weight. */
  random?: () => number;
}

const DEFAULT_PORT = 8448;
const HOUR = 3_600_000;
// Spec-recommended: 24 h default, 48 h cap, errors for up to an hour. Synapse's 5 min floor
// keeps a `no-store` or tiny max-age from turning every request into a lookup.
export const WELL_KNOWN_DEFAULT_MS = 24 * HOUR;
export const WELL_KNOWN_MAX_MS = 48 * HOUR;
export const WELL_KNOWN_MIN_MS = 5 * 60_000;
export const WELL_KNOWN_ERROR_MS = HOUR;

interface Cached<T> {
  value: T;
  expiresTs: number;
}

export class ServerResolver {
  private readonly wellKnownCache = new Map<string, Cached<string | undefined>>();
  private readonly srvCache = new Map<string, Cached<SrvRecord[]>>();
  /** One well-known fetch per host at a time; concurrent resolutions share it. */
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly clock: Clock;
  private readonly srv: SrvLookup;

  constructor(private readonly opts: ServerResolverOptions) {
    this.clock = opts.clock ?? systemClock;
    this.srv = opts.srv ?? systemSrvLookup;
  }

  async resolve(serverName: string): Promise<Resolution> {
    const parts = parseServerName(serverName);
    if (parts === undefined) return { ok: false, error: `invalid server name ${serverName}` };
    const override = this.opts.overrides?.[serverName];
    if (override !== undefined) {
      const to = parseServerName(override);
      if (to === undefined) return { ok: false, error: `invalid override ${override} for ${serverName}` };
      // Only the address changes: the peer still proves it is `serverName` (as with SRV).
      return ok(to.host, to.port ?? DEFAULT_PORT, serverName, parts.host);
    }
    // Step 1: IP literal. Step 2: explicit port. Neither consults DNS beyond A/AAAA.
    if (parts.kind !== 'dns') return ok(parts.host, parts.port ?? DEFAULT_PORT, serverName, parts.host);
    if (parts.port !== undefined) return ok(parts.host, parts.port, serverName, parts.host);

    // Step 3: delegation via .well-known.
    const delegated = await this.delegation(parts.host);
    if (delegated !== undefined) {
      const d = parseServerName(delegated)!; // validated when cached
      if (d.kind !== 'dns') return ok(d.host, d.port ?? DEFAULT_PORT, delegated, d.host); // 3.1
      if (d.port !== undefined) return ok(d.host, d.port, delegated, d.host); // 3.2
      return this.viaSrv(d.host); // 3.3–3.5
    }
    return this.viaSrv(parts.host); // steps 4–6
  }

  /** Forget cached discovery for a server (e.g. after repeated connection failures). */
  invalidate(serverName: string): void {
    const host = parseServerName(serverName)?.host;
    if (host !== undefined) this.wellKnownCache.delete(host);
  }

  /**
   * SRV `_matrix-fed._tcp`, then the deprecated `_matrix._tcp`, then port 8448; Host and
   * certificate stay `hostname`. Every record of the service is a target, in RFC 2782 order
   * (ordered afresh per resolution, so the weights spread load); as in Synapse, port 8448 is
   * not tried when the service has records.
   */
  private async viaSrv(hostname: string): Promise<Resolution> {
    for (const service of ['_matrix-fed._tcp.', '_matrix._tcp.']) {
      const records = orderSrvRecords(await this.srvRecords(service + hostname), this.opts.random ?? Math.random);
      if (records.length > 0) {
        const [first, ...rest] = records.map((r) => ({ host: r.name, port: r.port, hostHeader: hostname, tlsName: hostname }));
        return rest.length > 0 ? { ok: true, target: first, fallbacks: rest } : { ok: true, target: first };
      }
    }
    return ok(hostname, DEFAULT_PORT, hostname, hostname);
  }

  private async srvRecords(name: string): Promise<SrvRecord[]> {
    const now = this.clock.now();
    const hit = this.srvCache.get(name);
    if (hit !== undefined && hit.expiresTs > now) return hit.value;
    let records: SrvRecord[];
    try {
      // A target of "." means the service is explicitly not offered (RFC 2782).
      records = (await this.srv.resolveSrv(name)).filter((r) => r.name !== '' && r.name !== '.');
    } catch {
      records = [];
    }
    this.srvCache.set(name, { value: records, expiresTs: now + (this.opts.srvCacheMs ?? 10 * 60_000) });
    return records;
  }

  /** The valid `m.server` of `hostname`, or undefined (no/invalid well-known); cached. */
  private async delegation(hostname: string): Promise<string | undefined> {
    const hit = this.wellKnownCache.get(hostname);
    if (hit !== undefined && hit.expiresTs > this.clock.now()) return hit.value;
    let pending = this.inFlight.get(hostname);
    if (pending === undefined) {
      pending = this.fetchDelegation(hostname).finally(() => this.inFlight.delete(hostname));
      this.inFlight.set(hostname, pending);
    }
    return pending;
  }

  private async fetchDelegation(hostname: string): Promise<string | undefined> {
    const res = await this.opts.wellKnown.fetch(hostname);
    const now = this.clock.now();
    let value: string | undefined;
    let ttl = WELL_KNOWN_ERROR_MS;
    if (res.ok && res.status === 200) {
      value = parseWellKnown(res.body);
      if (value !== undefined) ttl = cachePeriod(res.headers, now);
    }
    this.wellKnownCache.set(hostname, { value, expiresTs: now + ttl });
    return value;
  }
}

/**
 * The order in which to try SRV targets (RFC 2782 "Usage rules"): lowest priority first;
 * within a priority, repeatedly a weighted random pick among the records left, where a
 * record of weight 0 is picked only by a roll of exactly 0 or once the weighted ones are gone
 * (the running-sum selection; `random` returns [0, 1)).
 */
export function orderSrvRecords(records: readonly SrvRecord[], random: () => number): SrvRecord[] {
  const byPriority = new Map<number, SrvRecord[]>();
  for (const r of records) byPriority.set(r.priority, [...(byPriority.get(r.priority) ?? []), r]);
  const out: SrvRecord[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Weight-0 records go first in the list, so a roll of 0 picks them (as the RFC says).
    const left = byPriority.get(priority)!.sort((a, b) => (a.weight === 0 ? 0 : 1) - (b.weight === 0 ? 0 : 1));
    while (left.length > 0) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      const roll = random() * total;
      let sum = 0;
      let i = left.findIndex((r) => (sum += r.weight) >= roll);
      if (i < 0) i = left.length - 1;
      out.push(left.splice(i, 1)[0]);
    }
  }
  return out;
}

function ok(host: string, port: number, hostHeader: string, tlsName: string): Resolution {
  return { ok: true, target: { host, port, hostHeader, tlsName } };
}

/** `m.server` if the body is a JSON object whose `m.server` follows the server-name grammar. */
export function parseWellKnown(body: Buffer): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8')); // any Content-Type: the spec says assume JSON
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const server = (json as Record<string, unknown>)['m.server'];
  return typeof server === 'string' && parseServerName(server) !== undefined ? server : undefined;
}

/** How long to keep a successful well-known answer, from Cache-Control / Expires. */
export function cachePeriod(headers: Record<string, string | string[] | undefined>, now: number): number {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  let period: number | undefined;
  const cc = header('cache-control');
  if (cc !== undefined) {
    const directives = cc.toLowerCase().split(',').map((d) => d.trim());
    if (directives.includes('no-store') || directives.includes('no-cache')) period = 0;
    else {
      const maxAge = directives.find((d) => d.startsWith('max-age='));
      const secs = maxAge === undefined ? NaN : Number(maxAge.slice(8));
      if (Number.isFinite(secs) && secs >= 0) period = secs * 1000;
    }
  }
  if (period === undefined) {
    const expires = header('expires');
    const at = expires === undefined ? NaN : Date.parse(expires);
    if (Number.isFinite(at)) period = at - now;
  }
  if (period === undefined) return WELL_KNOWN_DEFAULT_MS;
  return Math.min(WELL_KNOWN_MAX_MS, Math.max(WELL_KNOWN_MIN_MS, period));
}
