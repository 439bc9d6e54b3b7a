// The published room directory and space hierarchies, for other servers.
// Spec: server-server-api.md "Published Room Directory" (public_rooms.yaml), "Spaces"
// (space_hierarchy.yaml).
import type { RoomDirectoryPort } from '../ports.js';
import { fedBadJson, fedInvalidParam, guarded, isObject, originOf } from './errors.js';
import type { FederationRoute } from './route.js';

export function roomDirectoryRoutes(deps: { port: RoomDirectoryPort }): FederationRoute[] {
  return [
    {
      method: 'GET',
      path: '/_matrix/federation/v1/publicRooms',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1publicrooms',
      handler: guarded(async (ctx) => {
        const q = ctx.query;
        const limit = q.limit === undefined ? undefined : Number(q.limit);
        if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw fedInvalidParam('limit must be a non-negative integer');
        return {
          body: await deps.port.publicRooms({
            ...(limit !== undefined ? { limit } : {}),
            ...(q.since !== undefined ? { since: q.since } : {}),
            ...(q.include_all_networks !== undefined ? { includeAllNetworks: q.include_all_networks === 'true' } : {}),
            ...(q.third_party_instance_id !== undefined ? { thirdPartyInstanceId: q.third_party_instance_id } : {}),
          }),
        };
      }),
    },
    {
      method: 'POST',
      path: '/_matrix/federation/v1/publicRooms',
      auth: 'server',
      spec: 'server-server-api.md#post_matrixfederationv1publicrooms',
      handler: guarded(async (ctx) => {
        const b = ctx.body ?? {};
        if (!isObject(b)) throw fedBadJson('The body must be an object');
        if (b.limit !== undefined && (typeof b.limit !== 'number' || !Number.isSafeInteger(b.limit) || b.limit < 0)) throw fedBadJson('limit must be a non-negative integer');
        if (b.since !== undefined && typeof b.since !== 'string') throw fedBadJson('since must be a string');
        if (b.filter !== undefined && !isObject(b.filter)) throw fedBadJson('filter must be an object');
        const f = (b.filter ?? {}) as Record<string, unknown>;
        if (f.generic_search_term !== undefined && typeof f.generic_search_term !== 'string') throw fedBadJson('filter.generic_search_term must be a string');
        if (f.room_types !== undefined && (!Array.isArray(f.room_types) || !f.room_types.every((t) => t === null || typeof t === 'string'))) {
          throw fedBadJson('filter.room_types must be a list of strings or null');
        }
        if (b.third_party_instance_id !== undefined && typeof b.third_party_instance_id !== 'string') throw fedBadJson('third_party_instance_id must be a string');
        return {
          body: await deps.port.publicRooms({
            ...(b.limit !== undefined ? { limit: b.limit as number } : {}),
            ...(b.since !== undefined ? { since: b.since as string } : {}),
            filter: {
              ...(f.generic_search_term !== undefined ? { generic_search_term: f.generic_search_term as string } : {}),
              ...(f.room_types !== undefined ? { room_types: f.room_types as Array<string | null> } : {}),
            },
            ...(b.include_all_networks === true ? { includeAllNetworks: true } : {}),
            ...(b.third_party_instance_id !== undefined ? { thirdPartyInstanceId: b.third_party_instance_id as string } : {}),
          }),
        };
      }),
    },
    {
      method: 'GET',
      path: '/_matrix/federation/v1/hierarchy/{roomId}',
      auth: 'server',
      spec: 'server-server-api.md#get_matrixfederationv1hierarchyroomid',
      handler: guarded(async (ctx) => {
        const s = ctx.query.suggested_only;
        if (s !== undefined && s !== 'true' && s !== 'false') throw fedInvalidParam('suggested_only must be true or false');
        return { body: await deps.port.hierarchy(originOf(ctx), ctx.params.roomId, s === 'true') };
      }),
    },
  ];
}
