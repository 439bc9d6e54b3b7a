// Send-to-device messaging. Spec: client-server-api/modules/send_to_device.md; to_device.yaml.
import { z } from 'zod';
import type { JsonMap, ToDeviceService } from '@parley/e2ee';
import { ok, requesterOf, route } from '../../http/route.js';
import { anyObject, withE2eeErrors } from './e2eeShared.js';

export interface ToDeviceDeps {
  toDevice: Pick<ToDeviceService, 'send'>;
}

export function toDeviceRoutes(deps: ToDeviceDeps) {
  return withE2eeErrors([
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/sendToDevice/{eventType}/{txnId}',
      auth: 'user',
      rateLimit: 'message',
      body: z.looseObject({ messages: z.record(z.string(), z.record(z.string(), anyObject)) }),
      spec: 'client-server-api/_index.md#put_matrixclientv3sendtodeviceeventtypetxnid',
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        const { eventType, txnId } = ctx.params;
        await deps.toDevice.send(userId, deviceId, eventType, txnId, ctx.body.messages as Record<string, Record<string, JsonMap>>);
        return ok({});
      },
    }),
  ]);
}
