// Dehydrated devices, MSC3814 (unstable prefix org.matrix.msc3814.v1).
import { z } from 'zod';
import type { DehydratedDeviceService, JsonMap } from '@parley/e2ee';
import { ok, requesterOf, route } from '../../http/route.js';
import { anyObject, deviceKeysSchema, oneTimeKeysSchema, withE2eeErrors } from './e2eeShared.js';

export interface DehydratedDeviceDeps {
  dehydrated: DehydratedDeviceService;
}

const BASE = '/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device';
const SPEC = 'MSC3814 (matrix-spec-proposals#3814): dehydrated devices with SSSS';

export function dehydratedDeviceRoutes(deps: DehydratedDeviceDeps) {
  const { dehydrated } = deps;
  return withE2eeErrors([
    route({
      method: 'PUT',
      path: BASE,
      auth: 'user',
      body: z.looseObject({
        device_id: z.string().min(1).max(255),
        device_data: anyObject,
        initial_device_display_name: z.string().max(100).optional(),
        device_keys: deviceKeysSchema.optional(),
        one_time_keys: oneTimeKeysSchema.optional(),
        fallback_keys: oneTimeKeysSchema.optional(),
      }),
      spec: SPEC,
      async handler(ctx) {
        const b = ctx.body;
        return ok(
          await dehydrated.put(requesterOf(ctx).userId, {
            device_id: b.device_id,
            device_data: b.device_data as JsonMap,
            initial_device_display_name: b.initial_device_display_name,
            device_keys: b.device_keys,
            one_time_keys: b.one_time_keys as Record<string, string | JsonMap> | undefined,
            fallback_keys: b.fallback_keys as Record<string, string | JsonMap> | undefined,
          }),
        );
      },
    }),
    route({
      method: 'GET',
      path: BASE,
      auth: 'user',
      spec: SPEC,
      async handler(ctx) {
        return ok(await dehydrated.get(requesterOf(ctx).userId));
      },
    }),
    route({
      method: 'DELETE',
      path: BASE,
      auth: 'user',
      spec: SPEC,
      async handler(ctx) {
        return ok(await dehydrated.delete(requesterOf(ctx).userId));
      },
    }),
    route({
      method: 'POST',
      path: `${BASE}/{deviceId}/events`,
      auth: 'user',
      body: z.looseObject({ next_batch: z.string().optional() }),
      spec: SPEC,
      async handler(ctx) {
        return ok(await dehydrated.events(requesterOf(ctx).userId, ctx.params.deviceId, ctx.body.next_batch));
      },
    }),
    // matrix-js-sdk's form of the same call: GET with `from`, paging until next_batch is absent.
    route({
      method: 'GET',
      path: `${BASE}/{deviceId}/events`,
      auth: 'user',
      query: z.looseObject({ from: z.string().optional() }),
      spec: SPEC,
      async handler(ctx) {
        const page = await dehydrated.events(requesterOf(ctx).userId, ctx.params.deviceId, ctx.query.from);
        return ok(page.events.length > 0 ? page : { events: [] });
      },
    }),
  ]);
}
