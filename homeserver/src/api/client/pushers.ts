// Pushers and the notification list. Spec: client-server-api/modules/push.md "Client
// behaviour", "Listing Notifications"; data/api/client-server/pusher.yaml, notifications.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { NotificationList } from '../../push/notificationList.js';
import type { PusherService } from '../../push/pushers.js';
import { intParam } from './queryParams.js';

// Presence of the required fields is checked by the service, to answer M_MISSING_PARAM as the spec shows.
const setBody = z.looseObject({
  pushkey: z.string().optional(),
  kind: z.string().nullable().optional(),
  app_id: z.string().optional(),
  app_display_name: z.string().optional(),
  device_display_name: z.string().optional(),
  profile_tag: z.string().optional(),
  lang: z.string().optional(),
  data: z.record(z.string(), z.unknown()).optional(),
  append: z.boolean().optional(),
});

const notificationsQuery = z.looseObject({
  from: z.string().optional(),
  limit: intParam.optional(),
  only: z.string().optional(),
});

export function pusherRoutes(deps: { pushers: PusherService; notifications: NotificationList }) {
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/pushers',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3pushers',
      async handler(ctx) {
        return ok({ pushers: await deps.pushers.list(requesterOf(ctx).userId) });
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/pushers/set',
      auth: 'user',
      rateLimit: 'general',
      body: setBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3pushersset',
      async handler(ctx) {
        await deps.pushers.set(requesterOf(ctx), ctx.body);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/notifications',
      auth: 'user',
      query: notificationsQuery,
      spec: 'client-server-api/_index.md#get_matrixclientv3notifications',
      async handler(ctx) {
        const { from, limit, only } = ctx.query;
        return ok(await deps.notifications.list(requesterOf(ctx), { from, limit, only }));
      },
    }),
  ];
}
