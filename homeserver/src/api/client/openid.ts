// POST /user/{userId}/openid/request_token: a token a third-party service can check with
// our federation openid/userinfo. Spec: client-server-api/_index.md "OpenID"; openid.yaml.
import { z } from 'zod';
import { forbidden } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { OpenIdTokens } from '../../federation/serve/openIdTokens.js';

export function openIdClientRoutes(deps: { tokens: Pick<OpenIdTokens, 'issue'> }) {
  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/user/{userId}/openid/request_token',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({}),
      spec: 'client-server-api/_index.md#post_matrixclientv3useruseridopenidrequest_token',
      handler: async (ctx) => {
        const requester = requesterOf(ctx);
        // Only for oneself (Synapse answers 403 otherwise).
        if (ctx.params.userId !== requester.userId) throw forbidden('Cannot request an OpenID token for another user');
        return ok(await deps.tokens.issue(requester.userId));
      },
    }),
  ];
}
