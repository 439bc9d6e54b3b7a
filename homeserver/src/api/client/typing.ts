// Typing notifications. Spec: client-server-api/modules/typing_notifications.md;
// data/api/client-server/typing.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { TypingService } from '../../sync/typing.js';

const typingBody = z.object({
  typing: z.boolean(),
  timeout: z.number().int().min(0).optional(),
});

export function typingRoutes(deps: { typing: Pick<TypingService, 'setTyping'> }) {
  return [
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/{roomId}/typing/{userId}',
      auth: 'user',
      body: typingBody,
      spec: 'client-server-api/_index.md#put_matrixclientv3roomsroomidtypinguserid',
      async handler(ctx) {
        const { roomId, userId } = ctx.params;
        await deps.typing.setTyping(requesterOf(ctx).userId, userId, roomId, ctx.body.typing, ctx.body.timeout);
        return ok({});
      },
    }),
  ];
}
