// The UIA stages Parley offers.
// Spec: client-server-api/_index.md "Dummy Auth", "Password-based", "Identifier types".
import { badJson, missingParam, unknown } from '../http/errors.js';
import type { StageResult, UiaStage } from './uia.js';

export const DUMMY = 'm.login.dummy';
export const PASSWORD = 'm.login.password';

/** Always succeeds: lets an endpoint (registration) demand no real authentication. */
export const dummyStage: UiaStage = {
  type: DUMMY,
  check: async () => ({ ok: true }),
};

export interface PasswordStageDeps {
  /** Typed user (localpart or user ID) → local user ID, or undefined when not local. */
  qualifyUser(user: string): string | undefined;
  verifyPassword(userId: string, password: string): Promise<boolean | 'deactivated'>;
}

const invalid: StageResult = { ok: false, errcode: 'M_FORBIDDEN', error: 'Invalid password' };

/**
 * m.login.password for an authenticated user: the identifier must name the user
 * who started the session — checking anyone else's password would give a
 * password-guessing oracle to whoever holds a token.
 */
export function passwordStage(deps: PasswordStageDeps): UiaStage {
  return {
    type: PASSWORD,
    async check(auth, session) {
      const password = auth.password;
      if (password === undefined) throw missingParam("Missing parameter 'password'");
      if (typeof password !== 'string') throw badJson("'password' must be a string");
      const user = typedUser(auth);
      if (user === 'third-party') return { ok: false, errcode: 'M_FORBIDDEN', error: 'Unknown third-party identifier' };
      const userId = deps.qualifyUser(user);
      if (userId === undefined || session.userId === undefined || userId !== session.userId) return invalid;
      return (await deps.verifyPassword(userId, password)) === true ? { ok: true } : invalid;
    },
  };
}

/** The user an auth dict (or login body) names: `identifier` of type m.id.user, or the legacy `user` field. */
export function typedUser(body: Record<string, unknown>): string | 'third-party' {
  const id = body.identifier;
  if (id !== undefined && id !== null) {
    if (typeof id !== 'object' || Array.isArray(id)) throw badJson("'identifier' must be an object");
    const { type, user } = id as Record<string, unknown>;
    if (type === 'm.id.user') {
      if (typeof user !== 'string') throw missingParam("Missing parameter 'identifier.user'");
      return user;
    }
    if (type === 'm.id.thirdparty' || type === 'm.id.phone') return 'third-party';
    throw unknown(`Unknown login identifier type ${String(type)}`);
  }
  if (typeof body.user === 'string') return body.user;
  if (typeof body.medium === 'string' || typeof body.address === 'string') return 'third-party';
  throw missingParam("Missing parameter 'identifier'");
}
