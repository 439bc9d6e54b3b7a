// Filters: upload and download. Spec: client-server-api/_index.md "Filtering";
// data/api/client-server/filter.yaml.
import { ok, requesterOf, route } from '../../http/route.js';
import { filterSchema } from '../../sync/filter.js';
import type { FilterService } from '../../sync/filters.js';

export function filterRoutes(deps: { filters: Pick<FilterService, 'create' | 'get'> }) {
  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/user/{userId}/filter',
      auth: 'user',
      body: filterSchema,
      spec: 'client-server-api/_index.md#post_matrixclientv3useruseridfilter',
      async handler(ctx) {
        const filterId = await deps.filters.create(requesterOf(ctx).userId, ctx.params.userId, ctx.body);
        return ok({ filter_id: filterId });
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/user/{userId}/filter/{filterId}',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3useruseridfilterfilterid',
      async handler(ctx) {
        return ok(await deps.filters.get(requesterOf(ctx).userId, ctx.params.userId, ctx.params.filterId));
      },
    }),
  ];
}
