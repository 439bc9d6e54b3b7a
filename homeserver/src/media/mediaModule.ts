// Builds the media repository (store, metadata, thumbnails, URL previews) and its
// routes, for main.ts to mount.
import { join } from 'node:path';
import type { Logger } from 'pino';
import { mediaRoutes } from '../api/client/media.js';
import type { MediaConfig } from '../config/config.js';
import type { Route } from '../http/route.js';
import type { Database } from '../storage/db.js';
import { MediaRepo, UrlPreviewRepo } from '../storage/mediaRepo.js';
import { FileMediaStore } from './fileMediaStore.js';
import { MediaService, type RemoteMediaSource } from './mediaService.js';
import type { MediaStore } from './mediaStore.js';
import { IpPolicy } from './preview/ipPolicy.js';
import { UrlPreviewer } from './preview/urlPreviewer.js';
import { Thumbnailer } from './thumbnailer.js';

export interface MediaModuleConfig {
  serverName: string;
  /** Media bytes go to <dataDir>/media unless a store is given. */
  dataDir: string;
  media: MediaConfig;
}

export interface MediaModule {
  media: MediaService;
  previewer: UrlPreviewer | undefined;
  routes: Route<unknown, unknown>[];
  /** Release requests waiting for pending uploads. */
  close(): void;
}

export async function createMediaModule(
  db: Database,
  config: MediaModuleConfig,
  logger: Logger,
  opts: { store?: MediaStore; remote?: RemoteMediaSource } = {},
): Promise<MediaModule> {
  const m = config.media;
  const store = opts.store ?? (await FileMediaStore.open(join(config.dataDir, 'media')));
  const thumbnailer = new Thumbnailer(m.max_image_pixels);
  const media = new MediaService(
    new MediaRepo(db),
    store,
    thumbnailer,
    {
      serverName: config.serverName,
      legacyUnauthenticated: m.legacy_unauthenticated,
      maxPendingUploads: m.max_pending_uploads,
      pendingUploadLifetimeMs: m.pending_upload_lifetime_ms,
    },
    logger,
    opts.remote,
  );
  const previewer = m.url_preview_enabled
    ? new UrlPreviewer(
        new UrlPreviewRepo(db),
        new IpPolicy({ blacklist: m.url_preview_ip_range_blacklist, whitelist: m.url_preview_ip_range_whitelist }),
        {
          storeMedia: (userId, body, meta) => media.upload(userId, body, meta),
          imageSize: async (bytes) => thumbnailer.probe(bytes).catch(() => undefined),
        },
        logger,
      )
    : undefined;
  const routes = mediaRoutes({ media, previewer, maxUploadSize: m.max_upload_size });
  return { media, previewer, routes, close: () => media.close() };
}
