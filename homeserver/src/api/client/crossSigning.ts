// Cross-signing keys and signatures.
// Spec: client-server-api/modules/end_to_end_encryption.md "Cross-signing"; cross_signing.yaml.
import { z } from 'zod';
import type { CrossSigningService, JsonMap } from '@parley/e2ee';
import { PASSWORD } from '../../auth/uiaStages.js';
import type { UserInteractiveAuth } from '../../auth/uia.js';
import { ok, requesterOf, route } from '../../http/route.js';
import { anyObject, crossSigningKeySchema, withE2eeErrors } from './e2eeShared.js';
import { authData } from './uiaBody.js';

export interface CrossSigningDeps {
  crossSigning: Pick<CrossSigningService, 'uploadNeedsAuth' | 'upload' | 'uploadSignatures'>;
  uia: Pick<UserInteractiveAuth, 'authenticate'>;
}

const DEVICE_SIGNING_PATH = '/_matrix/client/v3/keys/device_signing/upload';
// Replacing cross-signing keys changes who the user is to others: ask for the password.
const FLOWS = [{ stages: [PASSWORD] }];

export function crossSigningRoutes(deps: CrossSigningDeps) {
  const { crossSigning, uia } = deps;
  return withE2eeErrors([
    route({
      method: 'POST',
      path: DEVICE_SIGNING_PATH,
      auth: 'user',
      body: z.looseObject({
        master_key: crossSigningKeySchema.optional(),
        self_signing_key: crossSigningKeySchema.optional(),
        user_signing_key: crossSigningKeySchema.optional(),
        auth: authData,
      }),
      spec: 'client-server-api/_index.md#post_matrixclientv3keysdevice_signingupload',
      async handler(ctx) {
        const { userId } = requesterOf(ctx);
        const { master_key, self_signing_key, user_signing_key, auth } = ctx.body;
        const keys = { master_key, self_signing_key, user_signing_key };
        if (await crossSigning.uploadNeedsAuth(userId, keys)) {
          await uia.authenticate({ flows: FLOWS, binding: `POST ${DEVICE_SIGNING_PATH}`, userId, auth });
        }
        await crossSigning.upload(userId, keys);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/keys/signatures/upload',
      auth: 'user',
      body: z.record(z.string(), z.record(z.string(), anyObject)),
      spec: 'client-server-api/_index.md#post_matrixclientv3keyssignaturesupload',
      async handler(ctx) {
        return ok(await crossSigning.uploadSignatures(requesterOf(ctx).userId, ctx.body as Record<string, Record<string, JsonMap>>));
      },
    }),
  ]);
}
