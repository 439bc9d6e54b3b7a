// Membership endpoints. Spec: client-server-api/_index.md "Joining rooms" (joining.yaml,
// inviting.yaml), "Leaving rooms" (leaving.yaml, kicking.yaml), "Banning users in a room"
// (banning.yaml), list_joined_rooms.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { MembershipService } from '../../rooms/membershipService.js';
import { stringOrList } from './queryParams.js';
import { roomIdParam, userIdField } from './roomParams.js';

const reasonBody = z.looseObject({ reason: z.string().optional() });
const targetBody = z.looseObject({ user_id: z.string(), reason: z.string().optional() });
const joinBody = z.looseObject({ reason: z.string().optional(), third_party_signed: z.unknown().optional() });
const joinQuery = z.looseObject({ via: stringOrList, server_name: stringOrList });

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

type Membership = Pick<MembershipService, 'join' | 'invite' | 'leave' | 'kick' | 'ban' | 'unban' | 'forget'>;

export function roomMembershipRoutes(m: Membership) {
  const targetAction = (action: 'invite' | 'kick' | 'ban' | 'unban', specAnchor: string) =>
    route({
      method: 'POST',
      path: `/_matrix/client/v3/rooms/{roomId}/${action}`,
      auth: 'user',
      rateLimit: 'general',
      body: targetBody,
      spec: `client-server-api/_index.md#${specAnchor}`,
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        const target = userIdField(ctx.body.user_id);
        await m[action](requesterOf(ctx).userId, roomId, target, ctx.body.reason);
        return ok({});
      },
    });

  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/join/{roomIdOrAlias}',
      auth: 'user',
      rateLimit: 'general',
      body: joinBody,
      query: joinQuery,
      spec: 'client-server-api/_index.md#post_matrixclientv3joinroomidoralias',
      async handler(ctx) {
        const servers = [...list(ctx.query.via), ...list(ctx.query.server_name)];
        const { roomId } = await m.join(requesterOf(ctx).userId, ctx.params.roomIdOrAlias ?? '', { reason: ctx.body.reason, servers });
        return ok({ room_id: roomId });
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/join',
      auth: 'user',
      rateLimit: 'general',
      body: joinBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidjoin',
      async handler(ctx) {
        const { roomId } = await m.join(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId), { reason: ctx.body.reason });
        return ok({ room_id: roomId });
      },
    }),
    targetAction('invite', 'post_matrixclientv3roomsroomidinvite'),
    targetAction('kick', 'post_matrixclientv3roomsroomidkick'),
    targetAction('ban', 'post_matrixclientv3roomsroomidban'),
    targetAction('unban', 'post_matrixclientv3roomsroomidunban'),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/leave',
      auth: 'user',
      rateLimit: 'general',
      body: reasonBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidleave',
      async handler(ctx) {
        await m.leave(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId), ctx.body.reason);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/forget',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({}),
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidforget',
      async handler(ctx) {
        await m.forget(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId));
        return ok({});
      },
    }),
  ];
}
