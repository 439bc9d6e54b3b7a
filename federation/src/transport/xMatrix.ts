// X-Matrix request authentication: signing outgoing requests, parsing and checking
// incoming Authorization headers. Spec: server-server-api.md "Request Authentication".
import type { KeyObject } from 'node:crypto';
import type { JsonObject, JsonValue } from '../core/types.js';
import { isValidServerName } from '../core/ids.js';
import type { SigningKey } from '../signing/ed25519Key.js';
import { signJson, verifyJsonSignatureAsync } from '../signing/signJson.js';

export interface RequestToSign {
  method: string;
  /** Path and query exactly as sent, starting with `/_matrix/`. */
  uri: string;
  origin: string;
  destination: string;
  /** The JSON request body, if the request has one. */
  content?: JsonValue;
}

export interface XMatrixParams {
  origin: string;
  /** Absent from servers older than spec v1.3. */
  destination: string | undefined;
  key: string;
  sig: string;
}

/** Looks up a key that may sign requests (a current, unexpired verify key). */
export interface RequestKeyLookup {
  getRequestKey(serverName: string, keyId: string): Promise<KeyObject | undefined>;
}

export interface IncomingRequest {
  method: string;
  /** The raw request target (path and query, undecoded), e.g. express `req.originalUrl`. */
  uri: string;
  authorization: string | readonly string[] | undefined;
  /** Parsed JSON body; undefined when the request has none. */
  content?: unknown;
}

export type RequestAuthResult =
  | { ok: true; origin: string; keyId: string }
  | { ok: false; status: 401; errcode: 'M_UNAUTHORIZED'; error: string };

/** The Authorization header value for a request signed by `key`. */
export function signRequest(req: RequestToSign, key: SigningKey): string {
  const signed = signJson(requestJson(req.method, req.uri, req.origin, req.destination, req.content), req.origin, key);
  const sig = signed.signatures[req.origin][key.keyId];
  // One space after the scheme, lower-case names, no spaces around commas: what older servers parse.
  return `X-Matrix origin=${quote(req.origin)},destination=${quote(req.destination)},key=${quote(key.keyId)},sig=${quote(sig)}`;
}

function requestJson(method: string, uri: string, origin: string, destination: string, content: unknown): JsonObject {
  const obj: JsonObject = { method, uri, origin, destination };
  if (content !== undefined) obj.content = content as JsonValue;
  return obj;
}

const quote = (v: string) => '"' + v.replace(/[\\"]/g, '\\$&') + '"';

const SCHEME = /^x-matrix[ ]+/i;
const TOKEN_CHAR = /[A-Za-z0-9!#$%&'*+\-.^_`|~]/;
const WS = /[ \t]/;

/**
 * Parse one `X-Matrix` Authorization value (RFC 9110 auth-params: case-insensitive
 * names, token or quoted-string values, optional whitespace around commas).
 * Unquoted values may contain `:` and `/` (older servers send those bare).
 * Returns undefined for other schemes, bad syntax, repeated or missing parameters.
 */
export function parseXMatrixHeader(value: string): XMatrixParams | undefined {
  const scheme = SCHEME.exec(value);
  if (scheme === null) return undefined;
  const params = new Map<string, string>();
  let i = scheme[0].length;
  const n = value.length;
  const skipWs = () => {
    while (i < n && WS.test(value[i])) i++;
  };
  while (i < n) {
    skipWs();
    if (value[i] === ',') {
      i++; // empty list element
      continue;
    }
    if (i >= n) break;
    const nameStart = i;
    while (i < n && TOKEN_CHAR.test(value[i])) i++;
    if (i === nameStart) return undefined;
    const name = value.slice(nameStart, i).toLowerCase();
    skipWs();
    if (value[i] !== '=') return undefined;
    i++;
    skipWs();
    let v = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) return undefined; // unterminated
        const c = value[i++];
        if (c === '"') break;
        if (c === '\\') {
          if (i >= n) return undefined;
          v += value[i++];
        } else v += c;
      }
    } else {
      const start = i;
      while (i < n && !WS.test(value[i]) && value[i] !== ',' && value[i] !== '"' && value[i] !== '\\') i++;
      if (i === start) return undefined;
      v = value.slice(start, i);
    }
    if (params.has(name)) return undefined; // ambiguous
    params.set(name, v);
    skipWs();
    if (i < n && value[i] !== ',') return undefined;
  }
  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  if (origin === undefined || key === undefined || sig === undefined) return undefined;
  return { origin, destination: params.get('destination'), key, sig };
}

const denied = (error: string): RequestAuthResult => ({ ok: false, status: 401, errcode: 'M_UNAUTHORIZED', error });

/**
 * Check an incoming request's X-Matrix signature(s). `destination`, when sent, must
 * be our name; when absent the signed JSON still names us (as older servers signed it).
 */
export async function verifyRequest(
  req: IncomingRequest,
  ourServerName: string,
  keys: RequestKeyLookup,
): Promise<RequestAuthResult> {
  const values = req.authorization === undefined ? [] : typeof req.authorization === 'string' ? [req.authorization] : req.authorization;
  const parsed: XMatrixParams[] = [];
  for (const v of values) {
    if (!SCHEME.test(v)) continue; // other schemes are not ours to judge
    const p = parseXMatrixHeader(v);
    if (p === undefined) return denied('Malformed X-Matrix Authorization header');
    parsed.push(p);
  }
  if (parsed.length === 0) return denied('Missing X-Matrix Authorization header');
  const { origin, destination } = parsed[0];
  if (parsed.some((p) => p.origin !== origin || p.destination !== destination)) {
    return denied('X-Matrix headers disagree on origin or destination');
  }
  if (!isValidServerName(origin)) return denied('Invalid origin server name');
  if (destination !== undefined && destination !== ourServerName) return denied('Request is not addressed to this server');

  const base = requestJson(req.method, req.uri, origin, destination ?? ourServerName, req.content);
  for (const p of parsed) {
    if (!p.key.startsWith('ed25519:')) return denied(`Unsupported key algorithm in ${p.key}`);
    const publicKey = await keys.getRequestKey(origin, p.key);
    if (publicKey === undefined) return denied(`Could not find a current key ${p.key} for ${origin}`);
    const signed = { ...base, signatures: { [origin]: { [p.key]: p.sig } } };
    if (!(await verifyJsonSignatureAsync(signed, origin, p.key, publicKey))) return denied('Invalid request signature');
  }
  return { ok: true, origin, keyId: parsed[0].key };
}
