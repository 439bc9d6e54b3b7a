// Room aliases. Spec: client-server-api/_index.md "Room aliases" (directory.yaml).
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { RoomAliases } from '../../rooms/aliasService.js';
import { roomIdParam } from './roomParams.js';

export function roomDirectoryRoutes(aliases: RoomAliases) {
  const path = '/_matrix/client/v3/directory/room/{roomAlias}';
  return [
    route({
      method: 'PUT',
      path,
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({ room_id: z.string() }),
      spec: 'client-server-api/_index.md#put_matrixclientv3directoryroomroomalias',
      async handler(ctx) {
        await aliases.create(requesterOf(ctx), ctx.params.roomAlias ?? '', ctx.body.room_id);
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path,
      // The spec lets anyone resolve aliases, with or without a token.
      auth: 'optional',
      spec: 'client-server-api/_index.md#get_matrixclientv3directoryroomroomalias',
      handler: async (ctx) => ok(await aliases.resolve(ctx.params.roomAlias ?? '')),
    }),
    route({
      method: 'DELETE',
      path,
      auth: 'user',
      rateLimit: 'general',
      spec: 'client-server-api/_index.md#delete_matrixclientv3directoryroomroomalias',
      async handler(ctx) {
        await aliases.delete(requesterOf(ctx), ctx.params.roomAlias ?? '');
        return ok({});
      },
    }),
    route({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/{roomId}/aliases',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3roomsroomidaliases',
      handler: async (ctx) => ok({ aliases: await aliases.ofRoom(requesterOf(ctx), roomIdParam(ctx.params.roomId)) }),
    }),
  ];
}
