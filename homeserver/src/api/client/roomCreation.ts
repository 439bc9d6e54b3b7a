// POST /createRoom. Spec: client-server-api/_index.md "Creation" (create_room.yaml).
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { RoomCreator } from '../../rooms/createRoom.js';
import { jsonObject } from './roomParams.js';

const body = z.looseObject({
  visibility: z.enum(['public', 'private']).optional(),
  room_alias_name: z.string().optional(),
  name: z.string().optional(),
  topic: z.string().optional(),
  invite: z.array(z.string()).optional(),
  invite_3pid: z.array(z.unknown()).optional(),
  room_version: z.string().optional(),
  creation_content: jsonObject.optional(),
  initial_state: z.array(z.looseObject({ type: z.string(), state_key: z.string().optional(), content: jsonObject })).optional(),
  preset: z.enum(['private_chat', 'public_chat', 'trusted_private_chat']).optional(),
  is_direct: z.boolean().optional(),
  power_level_content_override: jsonObject.optional(),
});

export function roomCreationRoutes(creator: Pick<RoomCreator, 'createRoom'>) {
  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/createRoom',
      auth: 'user',
      rateLimit: 'message',
      body,
      spec: 'client-server-api/_index.md#post_matrixclientv3createroom',
      handler: async (ctx) => ok(await creator.createRoom(requesterOf(ctx), ctx.body)),
    }),
  ];
}
