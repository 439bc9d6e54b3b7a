// Outbound HTTPS with the checks federation needs: resolve the host ourselves, refuse
// addresses the policy blocks, then connect to that very address (no second lookup
// for DNS rebinding to exploit), verifying the certificate against the expected name.
// Spec: server-server-api.md "TLS" (SNI only for names, never for IP literals).
import { lookup as dnsLookup } from 'node:dns/promises';
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import type { OutboundPolicy } from './outboundPolicy.js';

/** Where and how to connect (see resolveServer.ts). */
export interface ConnectTarget {
  /** Hostname or IP literal (IPv6 without brackets) to connect to. */
  host: string;
  port: number;
  /** `Host` header value. */
  hostHeader: string;
  /** Name the certificate must be valid for; sent as SNI unless it is an IP literal. */
  tlsName: string;
}

export interface AddressLookup {
  /** All A/AAAA addresses of `host`, in preference order. */
  lookup(host: string): Promise<{ address: string; family: number }[]>;
}

export const systemAddressLookup: AddressLookup = {
  lookup: (host) => dnsLookup(host, { all: true, verbatim: true }),
};

export interface RawRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Pool key for keep-alive; normally the destination server name. */
  poolKey: string;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type ConnectFailureKind = 'blocked' | 'dns' | 'network' | 'tls' | 'timeout' | 'too_large';
/** `unreached`: no connection to the target was made (nothing was sent), so another target may be tried. */
export type RawResult = { ok: true; response: RawResponse } | { ok: false; kind: ConnectFailureKind; error: string; unreached?: boolean };

export interface HttpsConnectorOptions {
  policy: OutboundPolicy;
  /** Trusted CAs (buildTrustedCas). */
  ca: readonly (string | Buffer)[];
  lookup?: AddressLookup;
  /** Keep-alive agents kept at once (least recently used are closed). Default 256. */
  maxAgents?: number;
  /** Idle keep-alive sockets are closed after this. Default 60 s. */
  idleSocketMs?: number;
}

/** Errors on which the next address of the host is worth trying. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET']);

export class HttpsConnector {
  private readonly agents = new Map<string, Agent>();
  private readonly lookup: AddressLookup;
  private readonly maxAgents: number;
  /** Built once: a `ca` option would be re-stringified into the pool key on every request. */
  private readonly secureContext: SecureContext;

  constructor(private readonly opts: HttpsConnectorOptions) {
    this.lookup = opts.lookup ?? systemAddressLookup;
    this.maxAgents = opts.maxAgents ?? 256;
    this.secureContext = createSecureContext({ ca: [...opts.ca] });
  }

  async request(target: ConnectTarget, req: RawRequest): Promise<RawResult> {
    let addresses: string[];
    if (isIP(target.host) !== 0) addresses = [target.host];
    else {
      try {
        addresses = (await this.lookup.lookup(target.host)).map((a) => a.address);
      } catch (err) {
        return { ok: false, kind: 'dns', error: `cannot resolve ${target.host}: ${(err as Error).message}`, unreached: true };
      }
    }
    const allowed = addresses.filter((a) => this.opts.policy.ipAllowed(a));
    if (allowed.length === 0) {
      return { ok: false, kind: addresses.length === 0 ? 'dns' : 'blocked', error: `no permitted address for ${target.host}`, unreached: true };
    }
    let last: RawResult = { ok: false, kind: 'network', error: 'no address tried' };
    for (const address of allowed) {
      const attempt = await this.once(address, target, req);
      if (attempt.ok) return attempt;
      last = attempt.result;
      if (!attempt.retryNext) break;
    }
    return last;
  }

  /** Close every pooled connection. */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  private agentFor(key: string): Agent {
    let agent = this.agents.get(key);
    if (agent !== undefined) {
      this.agents.delete(key); // re-insert: most recently used last
      this.agents.set(key, agent);
      return agent;
    }
    agent = new Agent({
      keepAlive: true,
      maxSockets: 8,
      maxFreeSockets: 2,
      timeout: this.opts.idleSocketMs ?? 60_000,
      scheduling: 'lifo',
    });
    this.agents.set(key, agent);
    if (this.agents.size > this.maxAgents) {
      const [oldestKey, oldest] = this.agents.entries().next().value as [string, Agent];
      this.agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  }

  private once(
    address: string,
    target: ConnectTarget,
    req: RawRequest,
  ): Promise<{ ok: true; response: RawResponse } | { ok: false; result: RawResult; retryNext: boolean }> {
    const tlsName = stripBrackets(target.tlsName);
    const options: RequestOptions & { secureContext: SecureContext } = {
      host: address,
      port: target.port,
      method: req.method,
      path: req.path,
      headers: { ...req.headers, Host: target.hostHeader },
      agent: this.agentFor(req.poolKey),
      secureContext: this.secureContext,
      // No SNI for IP literals (RFC 6066); '' stops Node deriving one from Host.
      servername: isIP(tlsName) !== 0 ? '' : tlsName,
      // We connect to an address, so name the identity to check explicitly.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(tlsName, cert),
    };
    return new Promise((resolve) => {
      let settled = false;
      let connected = false;
      const finish = (v: { ok: true; response: RawResponse } | { ok: false; result: RawResult; retryNext: boolean }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      };
      const fail = (kind: ConnectFailureKind, error: string, retryNext = false) =>
        finish({ ok: false, result: { ok: false, kind, error, ...(retryNext ? { unreached: true } : {}) }, retryNext });
      const r = request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > req.maxResponseBytes) {
            fail('too_large', `response larger than ${req.maxResponseBytes} bytes`);
            res.destroy();
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish({ ok: true, response: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) } }));
        res.on('error', (err) => fail('network', err.message));
      });
      const timer = setTimeout(() => {
        // Still connecting: this address never answered, but the time is spent; no next address.
        if (!connected && !handshaking) finish({ ok: false, result: { ok: false, kind: 'timeout', error: `no connection within ${req.timeoutMs} ms`, unreached: true }, retryNext: false });
        else fail('timeout', `no response within ${req.timeoutMs} ms`);
        r.destroy();
      }, req.timeoutMs);
      let handshaking = false;
      r.on('socket', (s) => {
        if (!s.connecting) connected = true; // reused keep-alive socket
        s.once('connect', () => (handshaking = true));
        s.once('secureConnect', () => {
          handshaking = false;
          connected = true;
        });
      });
      r.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        // Failing between TCP connect and the end of the handshake is a certificate/TLS problem.
        if (handshaking || /CERT|TLS|SSL|ISSUER|SIGNATURE/.test(code)) fail('tls', `${code}: ${err.message}`);
        else fail('network', `${code || 'error'}: ${err.message}`, !connected && CONNECT_ERRORS.has(code));
      });
      r.end(req.body);
    });
  }
}

const stripBrackets = (h: string) => (h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h);
