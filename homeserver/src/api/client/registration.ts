// Account registration. Spec: client-server-api/_index.md "Account registration"; registration.yaml.
import { z } from 'zod';
import { DUMMY } from '../../auth/uiaStages.js';
import { REGISTRATION_TOKEN, type RegistrationTokens } from '../../admin/registrationTokens.js';
import type { UserInteractiveAuth } from '../../auth/uia.js';
import { forbidden, guestAccessForbidden, invalidParam, missingParam } from '../../http/errors.js';
import { ok, route } from '../../http/route.js';
import type { AccountService, Registered } from '../../users/accountService.js';
import { MAX_PASSWORD_LENGTH } from '../../users/password.js';
import { authData } from './uiaBody.js';

export interface RegistrationDeps {
  accounts: Pick<AccountService, 'checkUsername' | 'register' | 'newSession'>;
  uia: Pick<UserInteractiveAuth, 'authenticate'>;
  /** registration.open: anyone may create an account. */
  open: boolean;
  serverName: string;
  /**
   * registration.requires_token: registering needs a registration token (admin/registrationTokens.ts),
   * whether or not `open` is set.
   */
  tokens?: { service: Pick<RegistrationTokens, 'complete' | 'validity'>; required: boolean };
}

const REGISTER_PATH = '/_matrix/client/v3/register';
// Open registration asks for no real authentication, but the spec still wants the 401 round.
const FLOWS = [{ stages: [DUMMY] }];
const TOKEN_FLOWS = [{ stages: [REGISTRATION_TOKEN] }];

const registerBody = z.looseObject({
  auth: authData,
  username: z.string().max(512).optional(),
  password: z.string().max(MAX_PASSWORD_LENGTH).optional(),
  device_id: z.string().optional(),
  initial_device_display_name: z.string().optional(),
  inhibit_login: z.boolean().optional(),
  refresh_token: z.boolean().optional(),
});

export function registrationRoutes(deps: RegistrationDeps) {
  const { accounts, uia, serverName } = deps;
  const tokenRequired = deps.tokens?.required === true;
  const enabled = deps.open || tokenRequired;

  /** Registration must be open; only `kind=user` accounts exist (no guests). */
  const checkAllowed = (kind: string | undefined) => {
    if (kind === 'guest') throw guestAccessForbidden();
    if (kind !== undefined && kind !== 'user') throw invalidParam(`Invalid kind ${kind}`);
    if (!enabled) throw forbidden('Registration has been disabled');
  };

  return [
    route({
      method: 'POST',
      path: REGISTER_PATH,
      auth: 'none',
      rateLimit: 'register',
      query: z.looseObject({ kind: z.string().optional() }),
      body: registerBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3register',
      async handler({ query, body, ip }) {
        checkAllowed(query.kind);
        // Localparts are lower-case only; map what the user typed onto one (as Synapse).
        const localpart = body.username?.toLowerCase();
        // The spec wants name problems reported before authentication starts.
        if (localpart !== undefined) await accounts.checkUsername(localpart);
        const session = await uia.authenticate({ flows: tokenRequired ? TOKEN_FLOWS : FLOWS, binding: `POST ${REGISTER_PATH}`, auth: body.auth });

        const login = body.inhibit_login
          ? undefined
          : { deviceId: body.device_id, displayName: body.initial_device_display_name, ip };
        // A retry of a registration that already succeeded (or is running) in this session
        // logs in again instead of creating a second account (as Synapse).
        const earlier = session.data.registration as Promise<Registered> | undefined;
        if (earlier) {
          const { userId } = await earlier;
          if (!login) return ok({ user_id: userId, home_server: serverName });
          const s = await accounts.newSession(userId, login);
          return ok({ user_id: userId, home_server: serverName, access_token: s.accessToken, device_id: s.deviceId });
        }
        // An empty password counts as none (as Synapse).
        if (!body.password) throw missingParam('Missing params: password');
        const password = body.password;
        const token = session.data.registrationToken;
        const registration =
          typeof token === 'string' && deps.tokens
            ? deps.tokens.service.complete(token, session.id, (extraOps) => accounts.register({ localpart, password, login, extraOps }))
            : accounts.register({ localpart, password, login });
        session.data.registration = registration;
        registration.catch(() => delete session.data.registration);
        const reg = await registration;
        return ok({
          user_id: reg.userId,
          home_server: serverName,
          ...(reg.accessToken !== undefined ? { access_token: reg.accessToken, device_id: reg.deviceId } : {}),
        });
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/register/available',
      auth: 'none',
      // Not 'register': clients check names as the user types, which must not use up registrations.
      rateLimit: 'general',
      query: z.looseObject({ username: z.string() }),
      spec: 'client-server-api/_index.md#get_matrixclientv3registeravailable',
      async handler({ query }) {
        if (!enabled) throw forbidden('Registration has been disabled');
        await accounts.checkUsername(query.username.toLowerCase());
        return ok({ available: true });
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v1/register/m.login.registration_token/validity',
      auth: 'none',
      // The spec asks for a rate limit against guessing tokens.
      rateLimit: 'login',
      query: z.looseObject({ token: z.string() }),
      spec: 'client-server-api/_index.md#get_matrixclientv1registermloginregistration_tokenvalidity',
      async handler({ query }) {
        if (!enabled || !deps.tokens) throw forbidden('Registration is not enabled on this homeserver.');
        return ok({ valid: await deps.tokens.service.validity(query.token) });
      },
    }),
  ];
}
