// Synapse-compatible media admin API: a user's media (list, delete) and deleting one
// local media item (docs/admin_api/user_admin_api.md "User media", media_admin_api.md).
import { z } from 'zod';
import { invalidParam, notFound } from '../../http/errors.js';
import { ok, route } from '../../http/route.js';
import type { MediaService } from '../../media/mediaService.js';
import type { MediaRecord } from '../../storage/mediaRepo.js';
import { adminOf, dirParam, intParam, oneOf } from './adminAuth.js';

const ADMIN = '/_synapse/admin';
const ORDERS = ['media_id', 'upload_name', 'created_ts', 'last_access_ts', 'media_length', 'media_type', 'quarantined_by', 'safe_from_quarantine'] as const;

const pageQuery = z.looseObject({ from: z.string().optional(), limit: z.string().optional(), order_by: z.string().optional(), dir: z.string().optional() });

function view(mediaId: string, r: MediaRecord): Record<string, unknown> {
  return {
    media_id: mediaId,
    created_ts: r.created_ts,
    last_access_ts: null,
    media_length: r.size ?? 0,
    media_type: r.content_type ?? 'application/octet-stream',
    upload_name: r.upload_name ?? null,
    quarantined_by: r.quarantined?.by ?? null,
    safe_from_quarantine: false,
  };
}

export function adminMediaRoutes(deps: { media: MediaService; serverName: string }) {
  const { media } = deps;

  /** The user's media in the requested order (default: newest first), as one page. */
  const page = async (userId: string, q: z.infer<typeof pageQuery>) => {
    const all = (await media.listOfUser(userId)).map(({ mediaId, record }) => view(mediaId, record));
    const orderBy = oneOf('order_by', q.order_by, ORDERS, 'created_ts');
    // Neither given: newest first (Synapse).
    const dir = q.order_by === undefined && q.dir === undefined ? 'b' : dirParam(q.dir);
    const k = (m: Record<string, unknown>) => {
      const v = m[orderBy];
      return typeof v === 'boolean' ? Number(v) : typeof v === 'number' || typeof v === 'string' ? v : '';
    };
    all.sort((a, b) => {
      const c = k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0;
      return (dir === 'b' ? -c : c) || String(a.media_id).localeCompare(String(b.media_id));
    });
    const from = intParam('from', q.from, 0);
    const limit = intParam('limit', q.limit, 100);
    return { all, slice: all.slice(from, from + limit), from };
  };

  return [
    route({
      method: 'GET',
      path: `${ADMIN}/v1/users/{userId}/media`,
      auth: 'user',
      query: pageQuery,
      spec: 'synapse admin API: user_admin_api.md "List media uploaded by a user"',
      async handler(ctx) {
        adminOf(ctx);
        const { all, slice, from } = await page(ctx.params.userId, ctx.query);
        const next = from + slice.length < all.length ? { next_token: from + slice.length } : {};
        return ok({ media: slice, ...next, total: all.length });
      },
    }),
    route({
      method: 'DELETE',
      path: `${ADMIN}/v1/users/{userId}/media`,
      auth: 'user',
      query: pageQuery,
      spec: 'synapse admin API: user_admin_api.md "Delete media uploaded by a user"',
      async handler(ctx) {
        adminOf(ctx);
        const { slice } = await page(ctx.params.userId, ctx.query);
        const deleted = await media.deleteLocal(slice.map((m) => String(m.media_id)));
        return ok({ deleted_media: deleted, total: deleted.length });
      },
    }),
    route({
      method: 'DELETE',
      path: `${ADMIN}/v1/media/{serverName}/{mediaId}`,
      auth: 'user',
      spec: 'synapse admin API: media_admin_api.md "Delete a specific local media"',
      async handler(ctx) {
        adminOf(ctx);
        if (ctx.params.serverName !== deps.serverName) throw invalidParam('Can only delete local media');
        const deleted = await media.deleteLocal([ctx.params.mediaId]);
        if (deleted.length === 0) throw notFound('Unknown media');
        return ok({ deleted_media: deleted, total: deleted.length });
      },
    }),
  ];
}
