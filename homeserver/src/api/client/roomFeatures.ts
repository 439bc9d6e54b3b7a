// Room features beyond sending: upgrades, knocking, reporting, jumping to a date, space
// hierarchies. Spec: client-server-api/modules/room_upgrades.md (room_upgrades.yaml);
// _index.md "Knocking on rooms" (knocking.yaml); modules/report_content.md
// (report_content.yaml); room_event_by_timestamp.yaml; modules/spaces.md (space_hierarchy.yaml).
import { z } from 'zod';
import { invalidParam, missingParam } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import type { SpaceHierarchy } from '../../messaging/hierarchy.js';
import type { ReportService } from '../../messaging/reports.js';
import type { RoomUpgrader } from '../../messaging/roomUpgrade.js';
import type { MembershipService } from '../../rooms/membershipService.js';
import { boolParam, intParam, stringOrList } from './queryParams.js';
import { roomIdParam, userIdField } from './roomParams.js';


export interface RoomFeatureDeps {
  upgrader: Pick<RoomUpgrader, 'upgrade'>;
  membership: Pick<MembershipService, 'knock'>;
  reports: Pick<ReportService, 'reportEvent' | 'reportRoom' | 'reportUser'>;
  timestampToEvent(userId: string, roomId: string, ts: number, dir: 'f' | 'b'): Promise<{ event_id: string; origin_server_ts: number }>;
  hierarchy: Pick<SpaceHierarchy, 'hierarchy'>;
}

export function roomFeatureRoutes(deps: RoomFeatureDeps) {
  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/upgrade',
      auth: 'user',
      rateLimit: 'message',
      body: z.looseObject({ new_version: z.string(), additional_creators: z.array(z.string()).optional() }),
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidupgrade',
      async handler(ctx) {
        const { userId } = requesterOf(ctx);
        return ok(await deps.upgrader.upgrade(userId, roomIdParam(ctx.params.roomId), ctx.body.new_version, ctx.body.additional_creators));
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/knock/{roomIdOrAlias}',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({ reason: z.string().optional() }),
      query: z.looseObject({ via: stringOrList, server_name: stringOrList }),
      spec: 'client-server-api/_index.md#post_matrixclientv3knockroomidoralias',
      async handler(ctx) {
        const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
        const { roomId } = await deps.membership.knock(requesterOf(ctx).userId, ctx.params.roomIdOrAlias ?? '', {
          ...(ctx.body.reason !== undefined ? { reason: ctx.body.reason } : {}),
          servers: [...list(ctx.query.via), ...list(ctx.query.server_name)],
        });
        return ok({ room_id: roomId });
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/report/{eventId}',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({ reason: z.string().optional(), score: z.number().int().optional() }),
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidreporteventid',
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        await deps.reports.reportEvent(requesterOf(ctx).userId, roomId, ctx.params.eventId ?? '', ctx.body.reason, ctx.body.score);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/report',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({ reason: z.string().optional() }),
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidreport',
      async handler(ctx) {
        await deps.reports.reportRoom(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId), ctx.body.reason);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/users/{userId}/report',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({ reason: z.string().optional() }),
      spec: 'client-server-api/_index.md#post_matrixclientv3usersuseridreport',
      async handler(ctx) {
        await deps.reports.reportUser(requesterOf(ctx).userId, userIdField(ctx.params.userId ?? '', 'userId'), ctx.body.reason);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/{roomId}/timestamp_to_event',
      auth: 'user',
      // Checked below to answer M_MISSING_PARAM for absent parameters.
      query: z.object({ ts: z.string().optional(), dir: z.string().optional() }),
      spec: 'client-server-api/_index.md#get_matrixclientv1roomsroomidtimestamp_to_event',
      async handler(ctx) {
        const { ts, dir } = ctx.query;
        if (ts === undefined) throw missingParam("Missing query parameter 'ts'");
        if (dir === undefined) throw missingParam("Missing query parameter 'dir'");
        if (!/^\d{1,15}$/.test(ts)) throw invalidParam("Query parameter 'ts' must be a non-negative integer");
        if (dir !== 'f' && dir !== 'b') throw invalidParam("Query parameter 'dir' must be 'f' or 'b'");
        return ok(await deps.timestampToEvent(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId), Number(ts), dir));
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/{roomId}/hierarchy',
      auth: 'user',
      query: z.object({
        suggested_only: boolParam.optional(),
        limit: intParam.refine((n) => n > 0, 'must be greater than zero').optional(),
        max_depth: intParam.optional(),
        from: z.string().optional(),
      }),
      spec: 'client-server-api/_index.md#get_matrixclientv1roomsroomidhierarchy',
      async handler(ctx) {
        const q = ctx.query;
        return ok(
          await deps.hierarchy.hierarchy(requesterOf(ctx).userId, roomIdParam(ctx.params.roomId), {
            suggestedOnly: q.suggested_only ?? false,
            ...(q.limit !== undefined ? { limit: q.limit } : {}),
            ...(q.max_depth !== undefined ? { maxDepth: q.max_depth } : {}),
            ...(q.from ? { from: q.from } : {}),
          }),
        );
      },
    }),
  ];
}
