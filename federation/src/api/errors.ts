// Errors of the serving routes. Port implementations (in the homeserver) throw
// FederationError; `guarded` turns it into the `{errcode, error}` reply the route
// contract wants, so handlers stay straight-line code.
// Spec: server-server-api.md "API standards" (errors as in the client-server API).
import { type FederationContext, type FederationReply, type FederationRoute } from './route.js';

export class FederationError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    /** Extra fields of the error body (e.g. `room_version` of M_INCOMPATIBLE_ROOM_VERSION). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const fedForbidden = (msg: string) => new FederationError(403, 'M_FORBIDDEN', msg);
export const fedNotFound = (msg: string) => new FederationError(404, 'M_NOT_FOUND', msg);
export const fedBadJson = (msg: string) => new FederationError(400, 'M_BAD_JSON', msg);
export const fedInvalidParam = (msg: string) => new FederationError(400, 'M_INVALID_PARAM', msg);
export const fedIncompatibleVersion = (version: string) =>
  new FederationError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Your server does not support room version ${version}`, { room_version: version });
export const fedMissingParam = (msg: string) => new FederationError(400, 'M_MISSING_PARAM', msg);

type Handler = FederationRoute['handler'];

/** Wrap a handler so that a thrown FederationError becomes its error reply. */
export function guarded(handler: Handler): Handler {
  return async (ctx: FederationContext): Promise<FederationReply> => {
    try {
      return await handler(ctx);
    } catch (err) {
      if (err instanceof FederationError) return { status: err.status, body: { errcode: err.errcode, error: err.message, ...err.extra } };
      throw err;
    }
  };
}

/** The authenticated origin of an `auth: 'server'` route. */
export function originOf(ctx: FederationContext): string {
  if (ctx.origin === undefined) throw new FederationError(401, 'M_UNAUTHORIZED', 'Missing X-Matrix authentication');
  return ctx.origin;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
