// The join handshake as the resident server: make_join hands out a template, send_join
// accepts the signed join into the room and answers with the room's state (v2; with
// omit_members, the partial state of MSC3706). Spec: server-server-api.md "Joining Rooms";
// joins-v2.yaml (make_join in joins-v1.yaml).
import type { MembershipHandshakePort } from '../ports.js';
import { guarded, originOf } from './errors.js';
import type { FederationContext, FederationRoute } from './route.js';

/** Every `ver` of the query (room versions the caller supports); v1 is implied when absent. */
export function versionsOf(ctx: FederationContext): string[] {
  const all = ctx.queryAll?.ver ?? (ctx.query.ver !== undefined ? [ctx.query.ver] : []);
  return all.length > 0 ? all : ['1'];
}

export function joinRoutes(deps: { port: MembershipHandshakePort }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/make_join/{roomId}/{userId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1make_joinroomiduserid',
      handler: guarded(async (ctx) => {
        const r = await deps.port.make(originOf(ctx), ctx.params.roomId, ctx.params.userId, 'join', versionsOf(ctx));
        return { body: { room_version: r.roomVersion, event: r.event } };
      }),
    },
    {
      method: 'PUT',
      path: '/_matrix/federation/v2/send_join/{roomId}/{eventId}',
      auth: 'server',
      spec: 'server-server-api.md#put_matrixfederationv2send_joinroomideventid',
      maxBodyBytes: 256 * 1024,
      handler: guarded(async (ctx) => {
        const omit = ctx.query.omit_members === 'true';
        return { body: await deps.port.sendJoin(originOf(ctx), ctx.params.roomId, ctx.params.eventId, ctx.body, omit) };
      }),
    },
  ];
}
