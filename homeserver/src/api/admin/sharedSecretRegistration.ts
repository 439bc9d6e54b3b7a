// Synapse's shared-secret registration API, for provisioning scripts and
// `register_new_matrix_user`. Not part of the Matrix spec; the behaviour follows
// Synapse's admin API (GET a nonce, POST the registration with its HMAC). It works
// whenever a shared secret is configured, even with open registration off.
import { z } from 'zod';
import { forbidden, unknown } from '../../http/errors.js';
import { ok, route } from '../../http/route.js';
import type { AccountService } from '../../users/accountService.js';
import { MAX_PASSWORD_LENGTH } from '../../users/password.js';
import { macMatches, type NonceStore } from '../../users/sharedSecret.js';

export interface SharedSecretDeps {
  accounts: Pick<AccountService, 'register'>;
  nonces: NonceStore;
  /** registration.shared_secret; the API answers 400 without one. */
  secret: string | undefined;
  serverName: string;
}

const PATH = '/_synapse/admin/v1/register';

const body = z.looseObject({
  nonce: z.string(),
  username: z.string(),
  password: z.string(),
  admin: z.boolean().optional(),
  displayname: z.string().optional(),
  user_type: z.string().nullish(),
  mac: z.string(),
});

/** What Synapse accepts as user name and password here. */
const acceptable = (s: string, max: number) => s.length > 0 && s.length <= max && !s.includes('\0');

export function sharedSecretRoutes(deps: SharedSecretDeps) {
  const enabled = (): string => {
    if (!deps.secret) throw unknown('Shared secret registration is not enabled');
    return deps.secret;
  };
  return [
    route({
      method: 'GET',
      path: PATH,
      auth: 'none',
      spec: 'synapse admin API: shared-secret registration (GET nonce)',
      handler() {
        enabled();
        return ok({ nonce: deps.nonces.issue() });
      },
    }),
    route({
      method: 'POST',
      path: PATH,
      auth: 'none',
      body,
      spec: 'synapse admin API: shared-secret registration (POST)',
      async handler({ body: b, ip }) {
        const secret = enabled();
        // Spent before anything else is checked, so a nonce is never usable twice.
        if (!deps.nonces.consume(b.nonce)) throw unknown('Unrecognised nonce');
        if (!acceptable(b.username, 512)) throw unknown('Invalid username');
        if (!acceptable(b.password, MAX_PASSWORD_LENGTH)) throw unknown('Invalid password');
        const admin = b.admin ?? false;
        const fields = { nonce: b.nonce, username: b.username, password: b.password, admin, userType: b.user_type ?? undefined };
        if (!macMatches(secret, fields, b.mac)) throw forbidden('HMAC incorrect');
        const reg = await deps.accounts.register({
          localpart: b.username.toLowerCase(),
          password: b.password,
          admin,
          displayname: b.displayname,
          login: { ip },
        });
        return ok({ user_id: reg.userId, home_server: deps.serverName, access_token: reg.accessToken, device_id: reg.deviceId });
      },
    }),
  ];
}
