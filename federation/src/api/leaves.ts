// Leaving (or rejecting an invite) through a resident server: make_leave, send_leave v2.
// Spec: server-server-api.md "Leaving Rooms (Rejecting Invites)"; leaving-v2.yaml (make_leave in leaving-v1.yaml).
import type { MembershipHandshakePort } from '../ports.js';
import { guarded, originOf } from './errors.js';
import type { FederationRoute } from './route.js';

export function leaveRoutes(deps: { port: MembershipHandshakePort }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/make_leave/{roomId}/{userId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1make_leaveroomiduserid',
      handler: guarded(async (ctx) => {
        const r = await deps.port.make(originOf(ctx), ctx.params.roomId, ctx.params.userId, 'leave', undefined);
        return { body: { room_version: r.roomVersion, event: r.event } };
      }),
    },
    {
      method: 'PUT',
      path: '/_matrix/federation/v2/send_leave/{roomId}/{eventId}',
      auth: 'server',
      spec: 'server-server-api.md#put_matrixfederationv2send_leaveroomideventid',
      handler: guarded(async (ctx) => {
        await deps.port.sendLeave(originOf(ctx), ctx.params.roomId, ctx.params.eventId, ctx.body);
        return { body: {} };
      }),
    },
  ];
}
