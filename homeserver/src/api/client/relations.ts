// Relations and threads. Spec: client-server-api/_index.md "Relationships API"
// (relations.yaml); modules/threading.md "Querying threads in a room" (threads_list.yaml).
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { RelationsService } from '../../messaging/relationsService.js';
import { boolParam, intParam } from './queryParams.js';
import { roomIdParam } from './roomParams.js';

const relationsQuery = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  limit: intParam.optional(),
  dir: z.enum(['b', 'f']).optional(),
  recurse: boolParam.optional(),
});

const threadsQuery = z.object({
  include: z.enum(['all', 'participated']).optional(),
  from: z.string().optional(),
  // threads_list.yaml: an integer greater than zero.
  limit: intParam.refine((n) => n > 0, 'must be greater than zero').optional(),
});

export function relationRoutes(deps: { relations: Pick<RelationsService, 'relations' | 'threads'> }) {
  const relations = (path: string, anchor: string) =>
    route({
      method: 'GET',
      path,
      auth: 'user',
      query: relationsQuery,
      spec: `client-server-api/_index.md#${anchor}`,
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        const p = ctx.params;
        const q = ctx.query;
        return ok(
          await deps.relations.relations({ userId, deviceId }, roomIdParam(p.roomId), p.eventId ?? '', {
            ...(p.relType !== undefined ? { relType: p.relType } : {}),
            ...(p.eventType !== undefined ? { eventType: p.eventType } : {}),
            ...(q.from ? { from: q.from } : {}),
            ...(q.to ? { to: q.to } : {}),
            ...(q.limit !== undefined ? { limit: q.limit } : {}),
            dir: q.dir ?? 'b',
            recurse: q.recurse ?? false,
          }),
        );
      },
    });
  return [
    relations('/_matrix/client/v1/rooms/{roomId}/relations/{eventId}', 'get_matrixclientv1roomsroomidrelationseventid'),
    relations('/_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType}', 'get_matrixclientv1roomsroomidrelationseventidreltype'),
    relations(
      '/_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}',
      'get_matrixclientv1roomsroomidrelationseventidreltypeeventtype',
    ),
    route({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/{roomId}/threads',
      auth: 'user',
      query: threadsQuery,
      spec: 'client-server-api/_index.md#get_matrixclientv1roomsroomidthreads',
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        const q = ctx.query;
        return ok(
          await deps.relations.threads({ userId, deviceId }, roomIdParam(ctx.params.roomId), {
            include: q.include ?? 'all',
            ...(q.from ? { from: q.from } : {}),
            ...(q.limit !== undefined ? { limit: q.limit } : {}),
          }),
        );
      },
    }),
  ];
}
