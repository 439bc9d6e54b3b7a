// The media repository's endpoints. Spec: client-server-api/modules/content_repo.md;
// data/api/client-server/content-repo.yaml (upload, create, deprecated downloads) and
// authed-content-repo.yaml (/_matrix/client/v1/media/*).
import { z } from 'zod';
import { invalidParam, missingParam } from '../../http/errors.js';
import { ok, rawBodyOf, requesterOf, route, type BinaryReply, type Route } from '../../http/route.js';
import type { MediaContent, MediaService } from '../../media/mediaService.js';
import { MEDIA_SECURITY_HEADERS, contentDisposition } from '../../media/mime.js';
import type { UrlPreviewer } from '../../media/preview/urlPreviewer.js';
import { intParam } from './queryParams.js';

export interface MediaRouteDeps {
  media: Pick<MediaService, 'upload' | 'create' | 'uploadTo' | 'download' | 'thumbnail'>;
  /** Undefined when URL previews are off: the endpoints are then not served at all, as in Synapse. */
  previewer: Pick<UrlPreviewer, 'preview'> | undefined;
  maxUploadSize: number;
}

const uploadQuery = z.object({ filename: z.string().optional() });
const downloadQuery = z.object({ timeout_ms: intParam.optional() });
// Checked in the handler, to answer M_MISSING_PARAM / M_INVALID_PARAM as Synapse does.
const thumbnailQuery = z.object({
  width: z.string().optional(),
  height: z.string().optional(),
  method: z.string().optional(),
  animated: z.string().optional(),
  timeout_ms: intParam.optional(),
});
const previewQuery = z.object({ url: z.string().optional(), ts: intParam.optional() });

const header = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);

function binary(content: MediaContent, disposition: string): BinaryReply {
  return {
    binary: content.stream,
    contentType: content.contentType,
    length: content.size,
    headers: {
      ...MEDIA_SECURITY_HEADERS,
      'Content-Disposition': disposition,
      // Content behind a media ID never changes; the authenticated copy is for this user only.
      'Cache-Control': 'private, max-age=86400',
    },
  };
}

function positiveInt(name: string, v: string | undefined): number {
  if (v === undefined) throw missingParam(`Missing query parameter '${name}'`);
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1) throw invalidParam(`'${name}' must be a positive integer`);
  return Number(v);
}

export function mediaRoutes(deps: MediaRouteDeps): Route<unknown, unknown>[] {
  const { media, previewer, maxUploadSize } = deps;
  const uploadMeta = (ctx: { headers: Record<string, string | string[] | undefined>; query: { filename?: string } }) => ({
    contentType: header(ctx.headers['content-type']),
    filename: ctx.query.filename,
  });

  const config = (path: string, spec: string) =>
    route({ method: 'GET', path, auth: 'user', spec, handler: () => ok({ 'm.upload.size': maxUploadSize }) });

  const downloads = (prefix: string, legacy: boolean, spec: string) =>
    ['', '/{fileName}'].map((suffix) =>
      route({
        method: 'GET',
        path: `${prefix}/download/{serverName}/{mediaId}${suffix}`,
        auth: legacy ? 'none' : 'user',
        query: downloadQuery,
        spec,
        async handler({ params, query }) {
          const content = await media.download(params.serverName, params.mediaId, { timeoutMs: query.timeout_ms, legacy });
          // Spec: the file name given in the path replaces the uploaded one.
          return binary(content, contentDisposition(content.contentType, params.fileName ?? content.uploadName));
        },
      }),
    );

  const thumbnail = (prefix: string, legacy: boolean, spec: string) =>
    route({
      method: 'GET',
      path: `${prefix}/thumbnail/{serverName}/{mediaId}`,
      auth: legacy ? 'none' : 'user',
      query: thumbnailQuery,
      spec,
      async handler({ params, query }) {
        const method = query.method ?? 'scale';
        if (method !== 'scale' && method !== 'crop') throw invalidParam("'method' must be 'crop' or 'scale'");
        const content = await media.thumbnail(params.serverName, params.mediaId, {
          width: positiveInt('width', query.width),
          height: positiveInt('height', query.height),
          method,
          animated: query.animated === 'true',
          timeoutMs: query.timeout_ms,
          legacy,
        });
        // Spec: thumbnails are served inline, with a file name.
        const ext = content.contentType.split('/')[1] ?? 'bin';
        return binary(content, `inline; filename="thumbnail.${ext.replace(/[^a-z0-9]/gi, '')}"`);
      },
    });

  const preview = (path: string, spec: string) =>
    route({
      method: 'GET',
      path,
      auth: 'user',
      rateLimit: 'general',
      query: previewQuery,
      spec,
      async handler(ctx) {
        if (!ctx.query.url) throw missingParam("Missing query parameter 'url'");
        return ok(await previewer!.preview(requesterOf(ctx).userId, ctx.query.url, ctx.query.ts));
      },
    });

  const routes = [
    route({
      method: 'POST',
      path: '/_matrix/media/v3/upload',
      auth: 'user',
      rateLimit: 'general',
      rawBody: true,
      maxBodyBytes: maxUploadSize,
      query: uploadQuery,
      spec: 'client-server-api/_index.md#post_matrixmediav3upload',
      async handler(ctx) {
        const uri = await media.upload(requesterOf(ctx).userId, rawBodyOf(ctx), uploadMeta(ctx));
        return ok({ content_uri: uri });
      },
    }),
    route({
      method: 'POST',
      path: '/_matrix/media/v1/create',
      auth: 'user',
      rateLimit: 'general',
      body: z.looseObject({}),
      spec: 'client-server-api/_index.md#post_matrixmediav1create',
      async handler(ctx) {
        return ok(await media.create(requesterOf(ctx).userId));
      },
    }),
    route({
      method: 'PUT',
      path: '/_matrix/media/v3/upload/{serverName}/{mediaId}',
      auth: 'user',
      rateLimit: 'general',
      rawBody: true,
      maxBodyBytes: maxUploadSize,
      query: uploadQuery,
      spec: 'client-server-api/_index.md#put_matrixmediav3uploadservernamemediaid',
      async handler(ctx) {
        await media.uploadTo(requesterOf(ctx).userId, ctx.params.serverName, ctx.params.mediaId, rawBodyOf(ctx), uploadMeta(ctx));
        return ok({});
      },
    }),
    config('/_matrix/client/v1/media/config', 'client-server-api/_index.md#get_matrixclientv1mediaconfig'),
    ...downloads('/_matrix/client/v1/media', false, 'client-server-api/_index.md#get_matrixclientv1mediadownloadservernamemediaid'),
    thumbnail('/_matrix/client/v1/media', false, 'client-server-api/_index.md#get_matrixclientv1mediathumbnailservernamemediaid'),
    // Deprecated since v1.11; media uploaded while `media.legacy_unauthenticated` is off is not served here.
    config('/_matrix/media/v3/config', 'client-server-api/_index.md#get_matrixmediav3config'),
    ...downloads('/_matrix/media/v3', true, 'client-server-api/_index.md#get_matrixmediav3downloadservernamemediaid'),
    thumbnail('/_matrix/media/v3', true, 'client-server-api/_index.md#get_matrixmediav3thumbnailservernamemediaid'),
  ];
  if (previewer) {
    routes.push(
      preview('/_matrix/client/v1/media/preview_url', 'client-server-api/_index.md#get_matrixclientv1mediapreview_url'),
      preview('/_matrix/media/v3/preview_url', 'client-server-api/_index.md#get_matrixmediav3preview_url'),
    );
  }
  return routes;
}
