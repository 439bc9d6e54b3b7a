// Synapse-compatible server notices admin API (docs/admin_api/server_notices.md):
// POST /_synapse/admin/v1/send_server_notice and its idempotent PUT …/{txnId}.
// Spec: client-server-api/modules/server_notices.md.
import { z } from 'zod';
import type { JsonObject } from '@parley/federation/core/types';
import { unknown } from '../../http/errors.js';
import { ok, route } from '../../http/route.js';
import type { ServerNotices } from '../../serverNotices/serverNotices.js';
import { adminOf } from './adminAuth.js';

const SPEC = 'synapse admin API: docs/admin_api/server_notices.md';

const noticeBody = z.object({
  user_id: z.string(),
  content: z.record(z.string(), z.unknown()),
  type: z.string().min(1).optional(),
  state_key: z.string().optional(),
});

/** `notices` undefined: the server has no server_notices config, and sending is refused (as Synapse). */
export function serverNoticeRoutes(deps: { notices: Pick<ServerNotices, 'send'> | undefined }) {
  const send = async (body: z.infer<typeof noticeBody>, txnId?: string) => {
    if (!deps.notices) throw unknown('Server notices are not enabled on this server');
    const { eventId } = await deps.notices.send({
      userId: body.user_id,
      content: body.content as JsonObject,
      ...(body.type !== undefined ? { type: body.type } : {}),
      ...(body.state_key !== undefined ? { stateKey: body.state_key } : {}),
      ...(txnId !== undefined ? { txnId } : {}),
    });
    return ok({ event_id: eventId });
  };
  return [
    route({
      method: 'POST',
      path: '/_synapse/admin/v1/send_server_notice',
      auth: 'user',
      body: noticeBody,
      spec: SPEC,
      async handler(ctx) {
        adminOf(ctx);
        return send(ctx.body);
      },
    }),
    route({
      method: 'PUT',
      path: '/_synapse/admin/v1/send_server_notice/{txnId}',
      auth: 'user',
      body: noticeBody,
      spec: SPEC,
      async handler(ctx) {
        adminOf(ctx);
        return send(ctx.body, ctx.params.txnId);
      },
    }),
  ];
}
