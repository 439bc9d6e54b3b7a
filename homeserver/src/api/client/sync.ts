// GET /sync. Spec: client-server-api/_index.md "Syncing"; data/api/client-server/sync.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { FilterService } from '../../sync/filters.js';
import type { SyncService } from '../../sync/syncService.js';
import { parseToken } from '../../sync/token.js';
import { boolParam, intParam } from './queryParams.js';

export interface SyncRouteDeps {
  sync: Pick<SyncService, 'sync'>;
  filters: Pick<FilterService, 'resolveSyncFilter'>;
}

const syncQuery = z.object({
  filter: z.string().optional(),
  since: z.string().optional(),
  full_state: boolParam.optional(),
  // Passed to the presence module's request hook (presence/presenceService.ts).
  set_presence: z.enum(['offline', 'online', 'unavailable']).optional(),
  timeout: intParam.optional(),
  // Optional for servers (sync.yaml): not implemented, so `state` keeps its meaning.
  use_state_after: boolParam.optional(),
});

export function syncRoutes(deps: SyncRouteDeps) {
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/sync',
      auth: 'user',
      query: syncQuery,
      spec: 'client-server-api/_index.md#get_matrixclientv3sync',
      async handler(ctx) {
        const { userId, deviceId } = requesterOf(ctx);
        const q = ctx.query;
        const filter = await deps.filters.resolveSyncFilter(userId, q.filter);
        const since = q.since !== undefined && q.since !== '' ? parseToken(q.since, 'since') : undefined;
        // Returned, not awaited: a held long-poll does not keep this frame alive.
        return deps.sync
          .sync({
            viewer: { userId, deviceId },
            since,
            fullState: q.full_state ?? false,
            filter,
            timeoutMs: q.timeout ?? 0,
            ...(q.set_presence ? { setPresence: q.set_presence } : {}),
          })
          .then((body) => ok(body));
      },
    }),
  ];
}
