// The requester's own account: who am I, change password, deactivate.
// Spec: client-server-api/_index.md "Current account information", "Password management",
// "Account deactivation"; whoami.yaml, password_management.yaml, account_deactivation.yaml.
import { z } from 'zod';
import { PASSWORD } from '../../auth/uiaStages.js';
import type { UserInteractiveAuth } from '../../auth/uia.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { AccountService } from '../../users/accountService.js';
import { MAX_PASSWORD_LENGTH } from '../../users/password.js';
import { authData } from './uiaBody.js';

export interface AccountDeps {
  accounts: Pick<AccountService, 'whoami' | 'changePassword' | 'deactivate'>;
  uia: Pick<UserInteractiveAuth, 'authenticate'>;
}

/** Re-entering the password protects against someone who only holds an access token. */
const FLOWS = [{ stages: [PASSWORD] }];
const PASSWORD_PATH = '/_matrix/client/v3/account/password';
const DEACTIVATE_PATH = '/_matrix/client/v3/account/deactivate';

export function accountRoutes(deps: AccountDeps) {
  const { accounts, uia } = deps;
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/account/whoami',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3accountwhoami',
      handler: (ctx) => ok(accounts.whoami(requesterOf(ctx))),
    }),
    route({
      method: 'POST',
      path: PASSWORD_PATH,
      auth: 'user',
      // UIA checks a password: limit guessing like logins.
      rateLimit: 'login',
      body: z.looseObject({
        new_password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
        logout_devices: z.boolean().optional(),
        auth: authData,
      }),
      spec: 'client-server-api/_index.md#post_matrixclientv3accountpassword',
      async handler(ctx) {
        const requester = requesterOf(ctx);
        await uia.authenticate({ flows: FLOWS, binding: `POST ${PASSWORD_PATH}`, userId: requester.userId, auth: ctx.body.auth });
        // The spec's default: other devices are logged out unless the client says otherwise.
        await accounts.changePassword(requester, ctx.body.new_password, ctx.body.logout_devices ?? true);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: DEACTIVATE_PATH,
      auth: 'user',
      rateLimit: 'login',
      body: z.looseObject({ auth: authData, id_server: z.string().optional(), erase: z.boolean().optional() }),
      spec: 'client-server-api/_index.md#post_matrixclientv3accountdeactivate',
      async handler(ctx) {
        const { userId } = requesterOf(ctx);
        await uia.authenticate({ flows: FLOWS, binding: `POST ${DEACTIVATE_PATH}`, userId, auth: ctx.body.auth });
        await accounts.deactivate(userId, { erase: ctx.body.erase ?? false });
        // Parley binds no third-party identifiers, so there is never anything to unbind:
        // the spec requires 'success' in that case.
        return ok({ id_server_unbind_result: 'success' });
      },
    }),
  ];
}
