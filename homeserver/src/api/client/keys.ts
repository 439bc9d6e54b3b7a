// Key management API: upload, query, claim, changes.
// Spec: client-server-api/modules/end_to_end_encryption.md "Key management API"; keys.yaml.
import { z } from 'zod';
import type { DeviceKeysService, DeviceLists, JsonMap } from '@parley/e2ee';
import { missingParam } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import { parseToken } from '../../sync/token.js';
import { deviceKeysSchema, oneTimeKeysSchema, withE2eeErrors } from './e2eeShared.js';

export interface KeysDeps {
  keys: Pick<DeviceKeysService, 'upload' | 'query' | 'claim'>;
  deviceLists: Pick<DeviceLists, 'changesFor'>;
  stream: { readonly persisted: number };
}

const timeout = z.number().int().min(0).optional();

export function keysRoutes(deps: KeysDeps) {
  const { keys, deviceLists, stream } = deps;
  return withE2eeErrors([
    route({
      method: 'POST',
      path: '/_matrix/client/v3/keys/upload',
      auth: 'user',
      body: z.looseObject({
        device_keys: deviceKeysSchema.optional(),
        one_time_keys: oneTimeKeysSchema.optional(),
        fallback_keys: oneTimeKeysSchema.optional(),
      }),
      spec: 'client-server-api/_index.md#post_matrixclientv3keysupload',
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        return ok(
          await keys.upload(userId, deviceId, {
            device_keys: ctx.body.device_keys,
            one_time_keys: ctx.body.one_time_keys as Record<string, string | JsonMap> | undefined,
            fallback_keys: ctx.body.fallback_keys as Record<string, string | JsonMap> | undefined,
          }),
        );
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/keys/query',
      auth: 'user',
      body: z.looseObject({ device_keys: z.record(z.string(), z.array(z.string())), timeout }),
      spec: 'client-server-api/_index.md#post_matrixclientv3keysquery',
      async handler(ctx) {
        return ok(await keys.query(requesterOf(ctx).userId, ctx.body.device_keys, ctx.body.timeout));
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/keys/claim',
      auth: 'user',
      body: z.looseObject({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string())), timeout }),
      spec: 'client-server-api/_index.md#post_matrixclientv3keysclaim',
      async handler(ctx) {
        return ok(await keys.claim(ctx.body.one_time_keys, ctx.body.timeout));
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/keys/changes',
      auth: 'user',
      query: z.looseObject({ from: z.string().optional(), to: z.string().optional() }),
      spec: 'client-server-api/_index.md#get_matrixclientv3keyschanges',
      async handler(ctx) {
        if (ctx.query.from === undefined) throw missingParam("Missing query parameter 'from'");
        const from = parseToken(ctx.query.from, 'from');
        // `to` is a hint (keys.yaml); nothing past what /sync could have shown is reported.
        const to = ctx.query.to === undefined ? stream.persisted : Math.min(parseToken(ctx.query.to, 'to'), stream.persisted);
        return ok(await deviceLists.changesFor(requesterOf(ctx).userId, from, to));
      },
    }),
  ]);
}
