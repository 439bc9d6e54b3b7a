// Older clients and bots still call `/_matrix/client/r0/...`. Every v3 endpoint whose
// r0 form the spec had (r0.6.1) is also mounted under r0; endpoints that first appeared
// in v1.x under /v3 are not. Spec: client-server-api/_index.md "API Standards"
// (the v3 paths replaced r0 in v1.1 with the same behaviour).
import type { Route } from './route.js';

const V3 = '/_matrix/client/v3/';
const R0 = '/_matrix/client/r0/';

/** v3 paths (after the prefix) that did not exist in r0.6.1: knocking, refresh tokens, later reporting and profile fields. */
const AFTER_R0 = [
  /^knock\//,
  /^refresh$/,
  /^rooms\/\{roomId\}\/report$/,
  /^users\/\{userId\}\/report$/,
  /^register\/m\.login\.registration_token\/validity$/,
  /^login\/get_token$/,
  /^profile\/\{userId\}\/\{keyName\}$/,
  /^rooms\/\{roomId\}\/timestamp_to_event$/,
];

export function isAfterR0(path: string): boolean {
  const rest = path.slice(V3.length);
  return AFTER_R0.some((re) => re.test(rest));
}

/** The routes plus an r0 copy of each v3 route the r0 API had. */
export function withR0Aliases<R extends Pick<Route, 'path'>>(routes: R[]): R[] {
  const aliases = routes.filter((r) => r.path.startsWith(V3) && !isAfterR0(r.path)).map((r) => ({ ...r, path: R0 + r.path.slice(V3.length) }));
  return [...routes, ...aliases];
}
