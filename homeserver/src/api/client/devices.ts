// Device management. Spec: client-server-api/modules/device_management.md; device_management.yaml.
import { z } from 'zod';
import { PASSWORD } from '../../auth/uiaStages.js';
import type { UserInteractiveAuth } from '../../auth/uia.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { DeviceRecord } from '../../storage/devicesRepo.js';
import type { DeviceManager } from '../../users/devices.js';
import { authData } from './uiaBody.js';

export interface DevicesDeps {
  devices: Pick<DeviceManager, 'listDevicesSeen' | 'getDevice' | 'renameDevice' | 'deleteDevices'>;
  uia: Pick<UserInteractiveAuth, 'authenticate'>;
}

// Deleting a device logs it out; the module's security considerations ask for more than the token.
const FLOWS = [{ stages: [PASSWORD] }];

/** The client_device.yaml shape. */
function clientDevice(d: DeviceRecord) {
  return {
    device_id: d.deviceId,
    ...(d.displayName !== undefined ? { display_name: d.displayName } : {}),
    ...(d.lastSeenIp !== undefined ? { last_seen_ip: d.lastSeenIp } : {}),
    ...(d.lastSeenTs !== undefined ? { last_seen_ts: d.lastSeenTs } : {}),
  };
}

export function deviceRoutes(deps: DevicesDeps) {
  const { devices, uia } = deps;
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/devices',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3devices',
      async handler(ctx) {
        const list = await devices.listDevicesSeen(requesterOf(ctx).userId);
        return ok({ devices: list.map(clientDevice) });
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/devices/{deviceId}',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3devicesdeviceid',
      async handler(ctx) {
        return ok(clientDevice(await devices.getDevice(requesterOf(ctx).userId, ctx.params.deviceId)));
      },
    }),
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/devices/{deviceId}',
      auth: 'user',
      body: z.looseObject({ display_name: z.string().optional() }),
      spec: 'client-server-api/_index.md#put_matrixclientv3devicesdeviceid',
      async handler(ctx) {
        // Creating devices this way is for application services only: unknown devices are 404.
        await devices.renameDevice(requesterOf(ctx).userId, ctx.params.deviceId, ctx.body.display_name);
        return ok({});
      },
    }),
    route({
      method: 'DELETE',
      path: '/_matrix/client/v3/devices/{deviceId}',
      auth: 'user',
      rateLimit: 'login',
      body: z.looseObject({ auth: authData }),
      spec: 'client-server-api/_index.md#delete_matrixclientv3devicesdeviceid',
      async handler(ctx) {
        const { userId } = requesterOf(ctx);
        const { deviceId } = ctx.params;
        const binding = `DELETE /_matrix/client/v3/devices/${encodeURIComponent(deviceId)}`;
        await uia.authenticate({ flows: FLOWS, binding, userId, auth: ctx.body.auth });
        await devices.deleteDevices(userId, [deviceId]);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/delete_devices',
      auth: 'user',
      rateLimit: 'login',
      body: z.looseObject({ devices: z.array(z.string()), auth: authData }),
      spec: 'client-server-api/_index.md#post_matrixclientv3delete_devices',
      async handler(ctx) {
        const { userId } = requesterOf(ctx);
        await uia.authenticate({ flows: FLOWS, binding: 'POST /_matrix/client/v3/delete_devices', userId, auth: ctx.body.auth });
        await devices.deleteDevices(userId, ctx.body.devices);
        return ok({});
      },
    }),
  ];
}
