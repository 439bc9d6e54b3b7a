// Reading a room: GET /state, /state/{type}/{key}, /members, /joined_members,
// /event/{eventId}, /joined_rooms. Spec: client-server-api rooms.yaml, list_joined_rooms.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { RoomQueries } from '../../rooms/roomQueries.js';
import { parseToken } from '../../sync/token.js';
import { membershipValue, roomIdParam } from './roomParams.js';

export function roomReadRoutes(q: RoomQueries) {
  const getState = (path: string) =>
    route({
      method: 'GET',
      path,
      auth: 'user',
      query: z.looseObject({ format: z.enum(['content', 'event']).optional() }),
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidstateeventtypestatekey',
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        const r = requesterOf(ctx);
        return ok(await q.stateEvent(r, roomId, ctx.params.eventType ?? '', ctx.params.stateKey ?? '', ctx.query.format ?? 'content'));
      },
    });
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/state',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidstate',
      handler: async (ctx) => ok(await q.state(requesterOf(ctx), roomIdParam(ctx.params.roomId))),
    }),
    getState('/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}'),
    getState('/_matrix/client/v3/rooms/{roomId}/state/{eventType}'),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/members',
      auth: 'user',
      query: z.looseObject({ at: z.string().optional(), membership: membershipValue.optional(), not_membership: membershipValue.optional() }),
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidmembers',
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        return ok(
          await q.members(requesterOf(ctx), roomId, {
            ...(ctx.query.at !== undefined ? { at: parseToken(ctx.query.at, 'at') } : {}),
            ...(ctx.query.membership ? { membership: ctx.query.membership } : {}),
            ...(ctx.query.not_membership ? { notMembership: ctx.query.not_membership } : {}),
          }),
        );
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/joined_members',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidjoined_members',
      handler: async (ctx) => ok({ joined: await q.joinedMembers(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId)) }),
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/event/{eventId}',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomideventeventid',
      handler: async (ctx) => ok(await q.event(requesterOf(ctx), roomIdParam(ctx.params.roomId), ctx.params.eventId ?? '')),
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/joined_rooms',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3joined_rooms',
      handler: async (ctx) => ok({ joined_rooms: await q.joinedRooms(requesterOf(ctx).userId) }),
    }),
  ];
}
