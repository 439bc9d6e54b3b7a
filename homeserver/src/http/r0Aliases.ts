// Older clients and bots still call `/_matrix/client/r0/...`. Every v3 endpoint whose
// r0 form the spec had (r0.6.1) is also mounted under r0; endpoints that first appeared
// in v1.x under /v3 are not. Spec: client-server-api/_index.md "API Standards"
// (the v3 paths replaced r0 in v1.1 with the same behaviour). The media repository's
// r0 paths (upload, download, thumbnail, config, preview_url) are kept too, as Synapse
// does: bots and older SDKs still upload through /_matrix/media/r0/upload.
import type { Route } from './route.js';

const V3 = '/_matrix/client/v3/';
const R0 = '/_matrix/client/r0/';
const MEDIA_V3 = '/_matrix/media/v3/';
const MEDIA_R0 = '/_matrix/media/r0/';
/** Media v3 paths r0.6.1 did not have: asynchronous upload (v1.7). */
const MEDIA_AFTER_R0 = /^upload\/\{serverName\}\/\{mediaId\}$/;

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
  const media = routes
    .filter((r) => r.path.startsWith(MEDIA_V3) && !MEDIA_AFTER_R0.test(r.path.slice(MEDIA_V3.length)))
    .map((r) => ({ ...r, path: MEDIA_R0 + r.path.slice(MEDIA_V3.length) }));
  return [...routes, ...aliases, ...media];
}
