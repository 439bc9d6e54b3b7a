// Fetching `https://<hostname>/.well-known/matrix/server` through the guarded connector
// (same CA list and IP policy as federation traffic). Spec: server-server-api.md
// "Resolving server names" step 3: follow 30x redirects, avoiding loops.
import type { HttpsConnector } from './httpsConnector.js';
import type { WellKnownFetcher, WellKnownResponse } from './resolveServer.js';

export interface WellKnownFetcherOptions {
  /** Default 10 s per request. */
  timeoutMs?: number;
  /** Larger bodies are an error (Synapse: 50 KiB). */
  maxBytes?: number;
  maxRedirects?: number;
}

export function createWellKnownFetcher(connector: Pick<HttpsConnector, 'request'>, opts: WellKnownFetcherOptions = {}): WellKnownFetcher {
  const maxRedirects = opts.maxRedirects ?? 5;
  return {
    async fetch(hostname: string): Promise<WellKnownResponse> {
      let url = new URL(`https://${hostname}/.well-known/matrix/server`);
      const seen = new Set<string>();
      for (let hop = 0; ; hop++) {
        if (seen.has(url.href)) return { ok: false, error: `redirect loop at ${url.href}` };
        seen.add(url.href);
        const host = url.hostname;
        const port = url.port === '' ? 443 : Number(url.port);
        const res = await connector.request(
          { host: host.replace(/^\[|\]$/g, ''), port, hostHeader: url.host, tlsName: host },
          {
            method: 'GET',
            path: url.pathname + url.search,
            headers: { Accept: 'application/json' },
            timeoutMs: opts.timeoutMs ?? 10_000,
            maxResponseBytes: opts.maxBytes ?? 50 * 1024,
            poolKey: `well-known:${url.host}`,
          },
        );
        if (!res.ok) return { ok: false, error: `${res.kind}: ${res.error}` };
        const { status, headers, body } = res.response;
        const location = headers.location;
        if (status >= 300 && status < 400 && typeof location === 'string') {
          if (hop >= maxRedirects) return { ok: false, error: 'too many redirects' };
          url = new URL(location, url);
          if (url.protocol !== 'https:') return { ok: false, error: `refusing non-HTTPS redirect to ${url.href}` };
          continue;
        }
        return { ok: true, status, headers, body };
      }
    },
  };
}
