// GET /_matrix/federation/v1/version. Spec: server-server-api.md "Server implementation" (version.yaml).
import type { FederationRoute } from './route.js';

export function versionRoute(version: string): FederationRoute {
  return {
    method: 'GET',
    path: '/_matrix/federation/v1/version',
    auth: 'none',
    spec: 'server-server-api.md#get_matrixfederationv1version',
    handler: () => ({ body: { server: { name: 'Parley', version } } }),
  };
}
