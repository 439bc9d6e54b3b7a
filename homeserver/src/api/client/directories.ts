// The published room directory and the user directory.
// Spec: data/api/client-server/list_public_rooms.yaml, users.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { PublicRoomsDirectory } from '../../directory/publicRooms.js';
import type { UserDirectory } from '../../directory/userDirectory.js';
import { intParam } from './queryParams.js';
import { roomIdParam } from './roomParams.js';

export interface DirectoriesDeps {
  publicRooms: Pick<PublicRoomsDirectory, 'list' | 'visibility' | 'setVisibility'>;
  users: Pick<UserDirectory, 'search'>;
}

const serverQuery = { server: z.string().min(1).optional() };

export function directoryRoutes(deps: DirectoriesDeps) {
  const listPath = '/_matrix/client/v3/directory/list/room/{roomId}';
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/publicRooms',
      // list_public_rooms.yaml: GET needs no access token.
      auth: 'optional',
      query: z.looseObject({ ...serverQuery, limit: intParam.optional(), since: z.string().optional() }),
      spec: 'client-server-api/_index.md#get_matrixclientv3publicrooms',
      handler: async (ctx) =>
        ok(await deps.publicRooms.list(ctx.query.server, { ...(ctx.query.limit !== undefined ? { limit: ctx.query.limit } : {}), ...(ctx.query.since ? { since: ctx.query.since } : {}) })),
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/publicRooms',
      auth: 'user',
      query: z.looseObject(serverQuery),
      body: z.looseObject({
        limit: z.number().int().min(0).optional(),
        since: z.string().optional(),
        filter: z
          .looseObject({
            generic_search_term: z.string().optional(),
            room_types: z.array(z.string().nullable()).optional(),
          })
          .optional(),
        include_all_networks: z.boolean().optional(),
        third_party_instance_id: z.string().optional(),
      }),
      spec: 'client-server-api/_index.md#post_matrixclientv3publicrooms',
      handler: async (ctx) => ok(await deps.publicRooms.list(ctx.query.server, ctx.body)),
    }),
    route({
      method: 'GET',
      path: listPath,
      auth: 'optional',
      spec: 'client-server-api/_index.md#get_matrixclientv3directorylistroomroomid',
      handler: async (ctx) => ok({ visibility: await deps.publicRooms.visibility(roomIdParam(ctx.params.roomId)) }),
    }),
    route({
      method: 'PUT',
      path: listPath,
      auth: 'user',
      rateLimit: 'general',
      // list_public_rooms.yaml: visibility defaults to public.
      body: z.looseObject({ visibility: z.enum(['public', 'private']).optional() }),
      spec: 'client-server-api/_index.md#put_matrixclientv3directorylistroomroomid',
      async handler(ctx) {
        await deps.publicRooms.setVisibility(requesterOf(ctx), roomIdParam(ctx.params.roomId), ctx.body.visibility ?? 'public');
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/user_directory/search',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({ search_term: z.string(), limit: z.number().int().min(0).optional() }),
      spec: 'client-server-api/_index.md#post_matrixclientv3user_directorysearch',
      // users.yaml: limit defaults to 10.
      handler: (ctx) => ok(deps.users.search(requesterOf(ctx).userId, ctx.body.search_term, Math.min(ctx.body.limit ?? 10, 100))),
    }),
  ];
}
