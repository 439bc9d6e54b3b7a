// HTTP(S) GET for the URL previewer, safe against server-side request forgery: the host
// is resolved once, every address is checked against the IpPolicy, and the socket
// connects to a checked address (so a second DNS answer cannot point it elsewhere).
// Redirects are followed by hand, each hop checked the same way. Size and time are capped.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { IpPolicy } from './ipPolicy.js';

export interface FetchLimits {
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedResource {
  url: string;
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/** Why a fetch was not done or failed; the preview route maps these to Matrix errors. */
export class FetchRefused extends Error {
  constructor(
    readonly reason: 'blocked-ip' | 'blocked-dns' | 'bad-url' | 'too-large' | 'timeout' | 'network' | 'too-many-redirects',
    message: string,
  ) {
    super(message);
  }
}

const USER_AGENT = 'Parley (bot; URL preview)';

export async function safeFetch(url: string, policy: IpPolicy, limits: FetchLimits): Promise<FetchedResource> {
  const deadline = Date.now() + limits.timeoutMs;
  let current = url;
  for (let hop = 0; hop <= limits.maxRedirects; hop++) {
    const target = checkedUrl(current, policy);
    const res = await fetchOnce(target, policy, limits.maxBytes, deadline);
    if ('location' in res) {
      current = new URL(res.location, target).toString();
      continue;
    }
    return res;
  }
  throw new FetchRefused('too-many-redirects', 'Too many redirects');
}

/** Parse the URL and refuse other schemes and IP literals the policy forbids (no connection is made). */
function checkedUrl(raw: string, policy: IpPolicy): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FetchRefused('bad-url', 'Invalid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FetchRefused('bad-url', 'Only http and https URLs can be previewed');
  if (u.username || u.password) throw new FetchRefused('bad-url', 'URLs with credentials are not previewed');
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  // Node connects to IP literals without calling `lookup`, so they are checked here.
  if (isIP(host) && !policy.allows(host)) throw new FetchRefused('blocked-ip', 'IP address blocked by IP blacklist entry');
  return u;
}

function guardedLookup(policy: IpPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, verbatim: true, family: options.family }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const ok = addresses.filter((a) => policy.allows(a.address));
      if (ok.length === 0) {
        return callback(new FetchRefused('blocked-dns', 'DNS resolution failure during URL preview generation'), '', 0);
      }
      if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, ok);
      else callback(null, ok[0].address, ok[0].family);
    });
  };
}

function fetchOnce(
  u: URL,
  policy: IpPolicy,
  maxBytes: number,
  deadline: number,
): Promise<FetchedResource | { location: string }> {
  return new Promise((resolve, reject) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return reject(new FetchRefused('timeout', 'Timed out fetching the URL'));
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(u, {
      method: 'GET',
      lookup: guardedLookup(policy),
      headers: { 'User-Agent': USER_AGENT, Accept: 'text/html, application/xhtml+xml, image/*;q=0.9, */*;q=0.8', 'Accept-Language': 'en' },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new FetchRefused('timeout', 'Timed out fetching the URL')), remaining);
    const fail = (e: unknown) => {
      clearTimeout(timer);
      reject(e instanceof FetchRefused ? e : new FetchRefused('network', `Could not fetch the URL: ${(e as Error).message}`));
    };
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        clearTimeout(timer);
        res.resume();
        req.destroy();
        return resolve({ location: res.headers.location });
      }
      if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
        req.destroy();
        return fail(new FetchRefused('too-large', 'The resource is too large to preview'));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) return req.destroy(new FetchRefused('too-large', 'The resource is too large to preview'));
        chunks.push(c);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ url: u.toString(), status, contentType: res.headers['content-type'], body: Buffer.concat(chunks) });
      });
    });
    req.end();
  });
}
