// Room tags and mutual rooms. Spec: client-server-api/modules/tags.md (tags.yaml);
// modules/mutual_rooms.md (mutual_rooms.yaml; MSC2666's unstable path is kept for older clients).
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { TagService } from '../../messaging/tags.js';
import { roomIdParam } from './roomParams.js';

// tags.yaml: `order` is a number (0 to 1, by convention); other keys are kept as given.
const tagBody = z.looseObject({ order: z.number().finite().optional() });

export function tagRoutes(deps: { tags: Pick<TagService, 'get' | 'put' | 'delete'> }) {
  return [
    route({
      method: 'GET',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags',
      auth: 'user',
      spec: 'client-server-api/_index.md#get_matrixclientv3useruseridroomsroomidtags',
      handler: async (ctx) => ok(await deps.tags.get(requesterOf(ctx).userId, ctx.params.userId ?? '', roomIdParam(ctx.params.roomId))),
    }),
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}',
      auth: 'user',
      body: tagBody,
      spec: 'client-server-api/_index.md#put_matrixclientv3useruseridroomsroomidtagstag',
      async handler(ctx) {
        await deps.tags.put(requesterOf(ctx).userId, ctx.params.userId ?? '', roomIdParam(ctx.params.roomId), ctx.params.tag ?? '', ctx.body);
        return ok({});
      },
    }),
    route({
      method: 'DELETE',
      path: '/_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}',
      auth: 'user',
      spec: 'client-server-api/_index.md#delete_matrixclientv3useruseridroomsroomidtagstag',
      async handler(ctx) {
        await deps.tags.delete(requesterOf(ctx).userId, ctx.params.userId ?? '', roomIdParam(ctx.params.roomId), ctx.params.tag ?? '');
        return ok({});
      },
    }),
  ];
}

export function mutualRoomsRoutes(deps: { mutualRooms(requester: string, other: string): Promise<{ joined: string[]; count: number }> }) {
  const mutual = (path: string) =>
    route({
      method: 'GET',
      path,
      auth: 'user',
      query: z.object({ user_id: z.string(), from: z.string().optional() }),
      spec: 'client-server-api/_index.md#get_matrixclientv1mutual_rooms',
      // Every shared room fits in one page, so there is never a next_batch.
      handler: async (ctx) => ok(await deps.mutualRooms(requesterOf(ctx).userId, ctx.query.user_id)),
    });
  return [
    mutual('/_matrix/client/v1/mutual_rooms'),
    mutual('/_matrix/client/v1/user/mutual_rooms'),
    mutual('/_matrix/client/unstable/uk.half-shot.msc2666/user/mutual_rooms'),
  ];
}
