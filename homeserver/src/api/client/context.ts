// GET /rooms/{roomId}/context/{eventId}. Spec: client-server-api/modules/event_context.md;
// data/api/client-server/event_context.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import { parseRoomEventFilterParam } from '../../sync/filters.js';
import type { PaginationService } from '../../sync/pagination.js';
import { intParam } from './queryParams.js';

const contextQuery = z.object({
  limit: intParam.optional(),
  filter: z.string().optional(),
});

export function contextRoutes(deps: { pagination: Pick<PaginationService, 'context'> }) {
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/context/{eventId}',
      auth: 'user',
      query: contextQuery,
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidcontexteventid',
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        const { roomId, eventId } = ctx.params;
        return ok(
          await deps.pagination.context({ userId, deviceId }, roomId, eventId, ctx.query.limit, parseRoomEventFilterParam(ctx.query.filter)),
        );
      },
    }),
  ];
}
