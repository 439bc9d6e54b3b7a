// GET /_synapse/admin/v1/server_version (Synapse: docs/admin_api/version_api.md).
import { ok, route } from '../../http/route.js';
import { adminOf } from './adminAuth.js';

export function serverVersionRoutes(deps: { version: string }) {
  return [
    route({
      method: 'GET',
      path: '/_synapse/admin/v1/server_version',
      auth: 'user',
      spec: 'synapse admin API: version_api.md',
      handler(ctx) {
        adminOf(ctx);
        return ok({ server_version: `Parley ${deps.version}` });
      },
    }),
  ];
}
