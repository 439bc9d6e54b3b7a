// POST /search. Spec: client-server-api/modules/search.md; data/api/client-server/search.yaml.
// The filter is the spec's RoomEventFilter; unlike stored sync filters, a key it does not
// define is refused (400 M_BAD_JSON) rather than ignored, so a typo does not silently
// widen a search.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { SearchService } from '../../search/searchService.js';
import { roomEventFilterSchema } from '../../sync/filter.js';

const strictRoomEventFilter = z.strictObject(roomEventFilterSchema.shape);

const roomEventsCriteria = z.looseObject({
  search_term: z.string(),
  keys: z.array(z.enum(['content.body', 'content.name', 'content.topic'])).optional(),
  filter: strictRoomEventFilter.optional(),
  order_by: z.enum(['recent', 'rank']).optional(),
  event_context: z
    .looseObject({
      before_limit: z.number().int().min(0).optional(),
      after_limit: z.number().int().min(0).optional(),
      include_profile: z.boolean().optional(),
    })
    .optional(),
  include_state: z.boolean().optional(),
  groupings: z
    .looseObject({ group_by: z.array(z.looseObject({ key: z.enum(['room_id', 'sender']).optional() })).optional() })
    .optional(),
});

export function searchRoutes(search: Pick<SearchService, 'searchRoomEvents'>) {
  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/search',
      auth: 'user',
      rateLimit: 'general',
      query: z.object({ next_batch: z.string().optional() }).loose(),
      body: z.looseObject({ search_categories: z.looseObject({ room_events: roomEventsCriteria.optional() }) }),
      spec: 'client-server-api/modules/search.md#post_matrixclientv3search',
      async handler(ctx) {
        const { requester } = ctx;
        const criteria = ctx.body.search_categories.room_events;
        // Categories this server does not know are left out of the answer (as Synapse).
        if (!criteria) return ok({ search_categories: {} });
        const viewer = { userId: requesterOf({ requester }).userId, deviceId: requesterOf({ requester }).deviceId };
        return ok(await search.searchRoomEvents(viewer, criteria, ctx.query.next_batch));
      },
    }),
  ];
}
