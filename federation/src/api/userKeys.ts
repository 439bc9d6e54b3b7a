// E2EE and device questions about our users: user/devices, user/keys/query, user/keys/claim.
// Spec: server-server-api.md "Device Management", "End-to-End Encryption"; user_devices.yaml,
// user_keys.yaml.
import type { UserQueryPort } from '../ports.js';
import { fedBadJson, guarded, isObject } from './errors.js';
import type { FederationRoute } from './route.js';

export function userKeysRoutes(deps: { port: UserQueryPort }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/user/devices/{userId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1userdevicesuserid',
      handler: guarded(async (ctx) => ({ body: await deps.port.devices(ctx.params.userId) })),
    },
    {
      method: 'POST',
      path: '/_matrix/federation/v1/user/keys/query',
      auth: 'server',
      spec: 'server-server-api.md#post_matrixfederationv1userkeysquery',
      handler: guarded(async (ctx) => {
        const b = ctx.body;
        if (!isObject(b) || !isObject(b.device_keys)) throw fedBadJson('device_keys must be an object');
        const wanted: Record<string, string[]> = {};
        for (const [userId, ids] of Object.entries(b.device_keys)) {
          if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw fedBadJson(`device_keys.${userId} must be a list of device IDs`);
          wanted[userId] = ids as string[];
        }
        return { body: await deps.port.queryKeys(wanted) };
      }),
    },
    {
      method: 'POST',
      path: '/_matrix/federation/v1/user/keys/claim',
      auth: 'server',
      spec: 'server-server-api.md#post_matrixfederationv1userkeysclaim',
      handler: guarded(async (ctx) => {
        const b = ctx.body;
        if (!isObject(b) || !isObject(b.one_time_keys)) throw fedBadJson('one_time_keys must be an object');
        const wanted: Record<string, Record<string, string>> = {};
        for (const [userId, byDevice] of Object.entries(b.one_time_keys)) {
          if (!isObject(byDevice) || !Object.values(byDevice).every((x) => typeof x === 'string')) {
            throw fedBadJson(`one_time_keys.${userId} must map device IDs to algorithms`);
          }
          wanted[userId] = byDevice as Record<string, string>;
        }
        return { body: await deps.port.claimKeys(wanted) };
      }),
    },
  ];
}
