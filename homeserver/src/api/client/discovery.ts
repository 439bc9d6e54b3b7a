// Endpoints a client calls before logging in: supported spec versions, server
// capabilities and the client well-known document.
// Spec: client-server-api/_index.md "API Standards" (GET /versions), "Capabilities
// negotiation", "Server Discovery" (.well-known/matrix/client).
import { knownRoomVersions, DEFAULT_ROOM_VERSION } from '@parley/federation/core/roomVersions';
import { route, ok } from '../../http/route.js';
import { creatableRoomVersion } from '../../rooms/createRoom.js';

/** Spec versions whose Client-Server API Parley serves. */
export const SPEC_VERSIONS = ['r0.6.1', ...Array.from({ length: 18 }, (_, i) => `v1.${i + 1}`)];

/**
 * Unstable features clients look for before using an endpoint. matrix-js-sdk (and so
 * Element's "mutual rooms" in user info) only calls mutual rooms when MSC2666's query
 * form is advertised, even though v1.18 has the stable /v1/mutual_rooms.
 */
export const UNSTABLE_FEATURES: Readonly<Record<string, boolean>> = { 'uk.half-shot.msc2666.query_mutual_rooms': true };

export interface DiscoveryDeps {
  /** Base URL of this server as clients reach it, e.g. `https://hr.example.org`. */
  publicBaseUrl: string;
}

export function discoveryRoutes(deps: DiscoveryDeps) {
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/versions',
      auth: 'none',
      spec: 'client-server-api/_index.md#get_matrixclientversions',
      handler: () => ok({ versions: SPEC_VERSIONS, unstable_features: UNSTABLE_FEATURES }),
    }),
    route({
      method: 'GET',
      path: '/.well-known/matrix/client',
      auth: 'none',
      spec: 'client-server-api/_index.md#getwell-knownmatrixclient',
      handler: () => ok({ 'm.homeserver': { base_url: deps.publicBaseUrl } }),
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/capabilities',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3capabilities',
      handler: () =>
        ok({
          capabilities: {
            'm.change_password': { enabled: true },
            'm.room_versions': {
              default: DEFAULT_ROOM_VERSION,
              available: Object.fromEntries(
                knownRoomVersions()
                  .filter((v) => creatableRoomVersion(v.id) !== undefined)
                  .map((v) => [v.id, v.stable ? 'stable' : 'unstable']),
              ),
            },
            'm.set_displayname': { enabled: true },
            'm.set_avatar_url': { enabled: true },
            'm.3pid_changes': { enabled: false },
            'm.get_login_token': { enabled: false },
          },
        }),
    }),
  ];
}
