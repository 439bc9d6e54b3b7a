// Receipts and read markers. Spec: client-server-api/modules/receipts.md, read_markers.md;
// data/api/client-server/receipts.yaml, read_markers.yaml.
import { z } from 'zod';
import { ok, requesterOf, route } from '../../http/route.js';
import type { ReceiptService } from '../../sync/receipts.js';

const receiptBody = z.looseObject({
  // receipts.yaml 400: "It is not a string. It is empty."
  thread_id: z.string().min(1, 'thread_id must be a non-empty string').optional(),
});

const markersBody = z.looseObject({
  'm.fully_read': z.string().optional(),
  'm.read': z.string().optional(),
  'm.read.private': z.string().optional(),
});

export function receiptRoutes(deps: { receipts: Pick<ReceiptService, 'post' | 'setMarkers'> }) {
  return [
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}',
      auth: 'user',
      body: receiptBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidreceiptreceipttypeeventid',
      async handler(ctx) {
        const { roomId, receiptType, eventId } = ctx.params;
        await deps.receipts.post(requesterOf(ctx).userId, roomId, receiptType, eventId, ctx.body.thread_id);
        return ok({});
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/{roomId}/read_markers',
      auth: 'user',
      body: markersBody,
      spec: 'client-server-api/_index.md#post_matrixclientv3roomsroomidread_markers',
      async handler(ctx) {
        await deps.receipts.setMarkers(requesterOf(ctx).userId, ctx.params.roomId, {
          fullyRead: ctx.body['m.fully_read'],
          read: ctx.body['m.read'],
          readPrivate: ctx.body['m.read.private'],
        });
        return ok({});
      },
    }),
  ];
}
