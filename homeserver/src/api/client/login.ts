// Login and logout. Spec: client-server-api/_index.md "Login" (legacy API); login.yaml, logout.yaml.
import { z } from 'zod';
import { PASSWORD, typedUser } from '../../auth/uiaStages.js';
import { forbidden, missingParam, unknown } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { AccountService } from '../../users/accountService.js';

export interface LoginDeps {
  accounts: Pick<AccountService, 'login' | 'logout' | 'logoutAll'>;
  serverName: string;
}

const loginBody = z.looseObject({
  type: z.string(),
  // `user` typed here so that a wrong type is M_BAD_JSON naming 'identifier.user'; other identifier types keep their own keys.
  identifier: z.looseObject({ type: z.string(), user: z.string().optional() }).optional(),
  user: z.string().optional(),
  medium: z.string().optional(),
  address: z.string().optional(),
  password: z.string().optional(),
  token: z.string().optional(),
  device_id: z.string().optional(),
  initial_device_display_name: z.string().optional(),
  refresh_token: z.boolean().optional(),
});

export function loginRoutes(deps: LoginDeps) {
  const { accounts, serverName } = deps;
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/login',
      auth: 'none',
      spec: 'client-server-api/_index.md#get_matrixclientv3login',
      handler: () => ok({ flows: [{ type: PASSWORD }] }),
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/login',
      auth: 'none',
      rateLimit: 'login',
      body: loginBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3login',
      async handler({ body, ip }) {
        if (body.type !== PASSWORD) throw unknown(`Unknown login type ${body.type}`);
        const user = typedUser(body);
        // No third-party identifiers are bound to accounts here: the spec's 403 for unknown ones.
        if (user === 'third-party') throw forbidden('Unknown third-party identifier');
        if (body.password === undefined) throw missingParam("Missing parameter 'password'");
        // Refresh tokens are optional for servers; these access tokens do not expire.
        const s = await accounts.login(user, body.password, {
          deviceId: body.device_id,
          displayName: body.initial_device_display_name,
          ip,
        });
        return ok({ user_id: s.userId, access_token: s.accessToken, device_id: s.deviceId, home_server: serverName });
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/logout',
      auth: 'user',
      spec: 'client-server-api/_index.md#post_matrixclientv3logout',
      async handler(ctx) {
        await accounts.logout(requesterOf(ctx));
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/logout/all',
      auth: 'user',
      spec: 'client-server-api/_index.md#post_matrixclientv3logoutall',
      async handler(ctx) {
        await accounts.logoutAll(requesterOf(ctx).userId);
        return ok({});
      },
    }),
  ];
}
