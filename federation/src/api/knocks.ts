// Knocking through a resident server: make_knock, send_knock (answers with knock_room_state).
// Spec: server-server-api.md "Knocking upon a room"; knocks.yaml.
import type { MembershipHandshakePort } from '../ports.js';
import { guarded, originOf } from './errors.js';
import { versionsOf } from './joins.js';
import type { FederationRoute } from './route.js';

export function knockRoutes(deps: { port: MembershipHandshakePort }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/make_knock/{roomId}/{userId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1make_knockroomiduserid',
      handler: guarded(async (ctx) => {
        const r = await deps.port.make(originOf(ctx), ctx.params.roomId, ctx.params.userId, 'knock', versionsOf(ctx));
        return { body: { room_version: r.roomVersion, event: r.event } };
      }),
    },
    {
      method: 'PUT',
      path: '/_matrix/federation/v1/send_knock/{roomId}/{eventId}',
      auth: 'server',
      spec: 'server-server-api.md#put_matrixfederationv1send_knockroomideventid',
      handler: guarded(async (ctx) => ({ body: await deps.port.sendKnock(originOf(ctx), ctx.params.roomId, ctx.params.eventId, ctx.body) })),
    },
  ];
}
