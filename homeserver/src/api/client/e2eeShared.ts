// What the E2EE routes share: the key server's errors as HTTP errors, and the
// zod shapes of signed key objects. Signed objects are loose: every field the
// client sent is kept, or the signature over them would no longer verify.
import { z } from 'zod';
import { E2eeError } from '@parley/e2ee/errors';
import { MatrixError } from '../../http/errors.js';
import type { Route } from '../../http/route.js';

/** Routes whose handlers may throw E2eeError: thrown as the MatrixError the HTTP layer answers with. */
export function withE2eeErrors(routes: Route<unknown, unknown>[]): Route<unknown, unknown>[] {
  return routes.map((r) => ({
    ...r,
    async handler(ctx) {
      try {
        return await r.handler(ctx);
      } catch (err) {
        if (err instanceof E2eeError) throw new MatrixError(err.status, err.errcode, err.message, err.extra);
        throw err;
      }
    },
  }));
}

/** Spec: definitions/device_keys.yaml "Signatures" — user ID → key ID → signature. */
export const signaturesSchema = z.record(z.string(), z.record(z.string(), z.string()));

/** Spec: definitions/device_keys.yaml. */
export const deviceKeysSchema = z.looseObject({
  user_id: z.string(),
  device_id: z.string(),
  algorithms: z.array(z.string()),
  keys: z.record(z.string(), z.string()),
  signatures: signaturesSchema,
});

/** Spec: definitions/one_time_keys.yaml — a bare key or a KeyObject. */
export const oneTimeKeysSchema = z.record(
  z.string(),
  z.union([z.string(), z.looseObject({ key: z.string(), signatures: signaturesSchema })]),
);

/** Spec: definitions/cross_signing_key.yaml. */
export const crossSigningKeySchema = z.looseObject({
  user_id: z.string(),
  usage: z.array(z.string()),
  keys: z.record(z.string(), z.string()),
  signatures: signaturesSchema.optional(),
});

/** The same object form for anything that is merely carried (event content, auth_data, session_data). */
export const anyObject = z.looseObject({});
