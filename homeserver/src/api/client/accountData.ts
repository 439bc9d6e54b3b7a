// Account data, global and per room. Spec: client-server-api/modules/account_data.md;
// data/api/client-server/account-data.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { AccountDataService } from '../../sync/accountData.js';

/** The content: any JSON object. */
const contentSchema = z.record(z.string(), z.unknown());

export function accountDataRoutes(deps: { accountData: Pick<AccountDataService, 'getForClient' | 'setForClient'> }) {
  const { accountData } = deps;
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/user/{userId}/account_data/{type}',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3useruseridaccount_datatype',
      async handler(ctx) {
        const { userId, type } = ctx.params;
        return ok(await accountData.getForClient(requesterOf(ctx).userId, userId, undefined, type));
      },
    }),
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/user/{userId}/account_data/{type}',
      auth: 'user',
      body: contentSchema,
      spec: 'client-server-api/_index.md#put_matrixclientv3useruseridaccount_datatype',
      async handler(ctx) {
        const { userId, type } = ctx.params;
        await accountData.setForClient(requesterOf(ctx).userId, userId, undefined, type, ctx.body);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3useruseridroomsroomidaccount_datatype',
      async handler(ctx) {
        const { userId, roomId, type } = ctx.params;
        return ok(await accountData.getForClient(requesterOf(ctx).userId, userId, roomId, type));
      },
    }),
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}',
      auth: 'user',
      body: contentSchema,
      spec: 'client-server-api/_index.md#put_matrixclientv3useruseridroomsroomidaccount_datatype',
      async handler(ctx) {
        const { userId, roomId, type } = ctx.params;
        await accountData.setForClient(requesterOf(ctx).userId, userId, roomId, type, ctx.body);
        return ok({});
      },
    }),
  ];
}
