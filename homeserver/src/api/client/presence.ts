// GET/PUT /presence/{userId}/status. Spec: client-server-api/modules/presence.md;
// data/api/client-server/presence.yaml.
import { z } from 'zod';
import { forbidden } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { PresenceContent, PresenceState } from '../../presence/presenceService.js';
import { userIdField } from './roomParams.js';

export interface PresenceApi {
  /** undefined when presence is turned off (config presence.enabled: false). */
  get(userId: string): Promise<PresenceContent>;
  set(userId: string, state: PresenceState, statusMsg: string | undefined): Promise<void>;
  /** May `observer` see `target`'s presence (themself, or a shared room)? */
  mayObserve(observer: string, target: string): Promise<boolean>;
}

const path = '/_matrix/client/v3/presence/{userId}/status';

export function presenceRoutes(api: PresenceApi) {
  return [
    route({
      method: 'PUT',
      path,
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({
        presence: z.enum(['online', 'offline', 'unavailable']),
        status_msg: z.string().max(1024).nullish(),
      }),
      spec: 'client-server-api/modules/presence.md#put_matrixclientv3presenceuseridstatus',
      async handler(ctx) {
        const userId = userIdField(ctx.params.userId ?? '', 'user ID');
        // presence.yaml: "You cannot set the presence state of another user."
        if (userId !== requesterOf(ctx).userId) throw forbidden('You cannot set the presence state of another user');
        await api.set(userId, ctx.body.presence, ctx.body.status_msg ?? undefined);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path,
      auth: 'user',
      spec: 'client-server-api/modules/presence.md#get_matrixclientv3presenceuseridstatus',
      async handler(ctx) {
        const userId = userIdField(ctx.params.userId ?? '', 'user ID');
        // As Synapse: only users who share a room may look (presence.yaml 403).
        if (!(await api.mayObserve(requesterOf(ctx).userId, userId))) throw forbidden('You are not allowed to see their presence');
        return ok(await api.get(userId));
      },
    }),
  ];
}
