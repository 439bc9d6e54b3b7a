// Sending events: PUT /send, PUT /state, PUT /redact.
// Spec: client-server-api/_index.md "Sending events to a room" (room_send.yaml,
// room_state.yaml), "Redactions" (redaction.yaml).
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { EventService } from '../../rooms/eventService.js';
import { jsonObject, roomIdParam } from './roomParams.js';

type Events = Pick<EventService, 'send' | 'setState' | 'redact'>;

export function roomEventRoutes(events: Events) {
  const putState = (path: string) =>
    route({
      method: 'PUT',
      path,
      auth: 'user',
      rateLimit: 'message',
      body: jsonObject,
      spec: 'client-server-api/_index.md#put_matrixclientv3roomsroomidstateeventtypestatekey',
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        const eventId = await events.setState(requesterOf(ctx), roomId, ctx.params.eventType ?? '', ctx.params.stateKey ?? '', ctx.body);
        return ok({ event_id: eventId });
      },
    });
  return [
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}',
      auth: 'user',
      rateLimit: 'message',
      body: jsonObject,
      spec: 'client-server-api/_index.md#put_matrixclientv3roomsroomidsendeventtypetxnid',
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        const eventId = await events.send(requesterOf(ctx), roomId, ctx.params.eventType ?? '', ctx.params.txnId ?? '', ctx.body);
        return ok({ event_id: eventId });
      },
    }),
    putState('/_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}'),
    // An empty state key may be given by leaving the last segment off.
    putState('/_matrix/client/v3/rooms/{roomId}/state/{eventType}'),
    route({
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}',
      auth: 'user',
      rateLimit: 'message',
      body: z.looseObject({ reason: z.string().optional() }),
      spec: 'client-server-api/_index.md#put_matrixclientv3roomsroomidredacteventidtxnid',
      async handler(ctx) {
        const roomId = roomIdParam(ctx.params.roomId);
        const eventId = await events.redact(requesterOf(ctx), roomId, ctx.params.eventId ?? '', ctx.params.txnId ?? '', ctx.body.reason);
        return ok({ event_id: eventId });
      },
    }),
  ];
}
