// GET openid/userinfo: who an OpenID token (client-server request_token) belongs to. The
// caller is a third-party service, not a server: no X-Matrix. Spec: server-server-api.md
// "OpenID"; openid.yaml (401 M_UNKNOWN_TOKEN for unknown or expired tokens).
import type { UserQueryPort } from '../ports.js';
import { FederationError, guarded } from './errors.js';
import type { FederationRoute } from './route.js';

export function openIdRoutes(deps: { port: Pick<UserQueryPort, 'openIdUser'> }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/openid/userinfo',
      auth: 'none',
      spec: 'server-server-api.md#get_matrixfederationv1openiduserinfo',
      handler: guarded(async (ctx) => {
        const token = ctx.query.access_token;
        const sub = token ? await deps.port.openIdUser(token) : undefined;
        if (!sub) throw new FederationError(401, 'M_UNKNOWN_TOKEN', 'Access token unknown or expired');
        return { body: { sub } };
      }),
    },
  ];
}
