// GET /rooms/{roomId}/messages. Spec: client-server-api/_index.md "Getting events for a
// room"; data/api/client-server/message_pagination.yaml.
import { z } from 'zod';
import { invalidParam, missingParam } from '../../http/errors.js';
import { ok, requesterOf, route } from '../../http/route.js';
import { parseRoomEventFilterParam } from '../../sync/filters.js';
import type { PaginationService } from '../../sync/pagination.js';
import { intParam } from './queryParams.js';

const messagesQuery = z.object({
  from: z.string().optional(),
  to: z.string().optional(),
  // Checked below, to answer M_MISSING_PARAM / M_INVALID_PARAM as Synapse does.
  dir: z.string().optional(),
  limit: intParam.optional(),
  filter: z.string().optional(),
});

export function messagesRoutes(deps: { pagination: Pick<PaginationService, 'messages'> }) {
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/messages',
      auth: 'user',
      query: messagesQuery,
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidmessages',
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        const q = ctx.query;
        if (q.dir === undefined) throw missingParam("Missing query parameter 'dir'");
        if (q.dir !== 'b' && q.dir !== 'f') throw invalidParam("Query parameter 'dir' must be 'b' or 'f'");
        return ok(
          await deps.pagination.messages({ userId, deviceId }, ctx.params.roomId, {
            from: q.from || undefined,
            to: q.to || undefined,
            dir: q.dir,
            limit: q.limit,
            filter: parseRoomEventFilterParam(q.filter),
          }),
        );
      },
    }),
  ];
}
