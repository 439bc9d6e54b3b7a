// The `auth` member of request bodies of endpoints that use User-Interactive
// Authentication. Spec: data/api/client-server/definitions/auth_data.yaml.
import { z } from 'zod';

/** `type` and `session` plus keys of the auth type; `null` is treated as absent. */
export const authData = z.looseObject({ type: z.string().optional(), session: z.string().optional() }).nullish();
