// The media repository: uploads (direct and async), downloads and thumbnails of local
// media. Spec: client-server-api/modules/content_repo.md; content-repo.yaml and
// authed-content-repo.yaml. Bytes go to the MediaStore first (durably), then the
// metadata; only then is the upload acknowledged.
import { Readable, Transform, pipeline } from 'node:stream';
import type { Logger } from 'pino';
import {
  cannotOverwriteMedia,
  forbidden,
  limitExceeded,
  notFound,
  notYetUploaded,
  unknown,
} from '../http/errors.js';
import type { MediaRecord, MediaRepo, ThumbnailRecord } from '../storage/mediaRepo.js';
import { KeyedLock } from '../util/keyedLock.js';
import { isValidMediaId, mxcUri, newMediaId } from './mediaIds.js';
import { ContentGuard } from './contentGuard.js';
import type { MediaStore } from './mediaStore.js';
import { SNIFF_BYTES, declaredContentType, servedContentType, sniffContentType } from './mime.js';
import { THUMBNAILABLE_TYPES, type Thumbnailer } from './thumbnailer.js';
import { chooseThumbnailSize, type ThumbnailMethod } from './thumbnailSizes.js';

export interface MediaServiceConfig {
  serverName: string;
  /** Whether the deprecated unauthenticated endpoints serve media uploaded now (else: frozen). */
  legacyUnauthenticated: boolean;
  maxPendingUploads: number;
  pendingUploadLifetimeMs: number;
}

/** Media of other servers; federation plugs in here later. Undefined → remote media is not found. */
export interface RemoteMediaSource {
  /**
   * The record of remote media with its bytes cached in the MediaStore, or undefined.
   * Its thumbnails are cached under `thumbnailId` (not a local media ID: it contains '/').
   */
  resolve(serverName: string, mediaId: string, opts: { timeoutMs: number }): Promise<{ record: MediaRecord; thumbnailId: string } | undefined>;
}

/** Bytes to send, with everything the routes need for the response headers. */
export interface MediaContent {
  stream: Readable;
  size: number;
  contentType: string;
  uploadName: string | undefined;
}

export interface DownloadOptions {
  /** How long to wait for a pending async upload (spec default 20 s, capped). */
  timeoutMs?: number;
  /** Called through a deprecated unauthenticated endpoint. */
  legacy?: boolean;
}

export interface ThumbnailRequest extends DownloadOptions {
  width: number;
  height: number;
  method: ThumbnailMethod;
  animated: boolean;
}

// Spec: authed-content-repo.yaml `timeout_ms` — default 20 s; "SHOULD impose a maximum" (Synapse: 60 s).
const DEFAULT_TIMEOUT_MS = 20_000;
const MAX_TIMEOUT_MS = 60_000;

export class MediaService {
  /** Downloads waiting for a pending async upload, per media ID. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Thumbnails being generated, so concurrent requests share the work. */
  private readonly generating = new Map<string, Promise<ThumbnailRecord | undefined>>();
  /** Serialises each user's create and each media ID's final upload check-and-commit. */
  private readonly locks = new KeyedLock();
  /** Uploads versus admin deletion of shared content (media/contentGuard.ts). */
  private readonly guard = new ContentGuard();

  constructor(
    private readonly repo: MediaRepo,
    private readonly store: MediaStore,
    private readonly thumbnailer: Thumbnailer,
    private readonly config: MediaServiceConfig,
    private readonly logger: Logger,
    private readonly remote?: RemoteMediaSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** POST /_matrix/media/v3/upload: store the bytes under a new media ID. */
  async upload(userId: string, body: Readable, meta: { contentType?: string; filename?: string }): Promise<string> {
    const content = await this.storeContent(body);
    const mediaId = newMediaId();
    await this.guarded(content.sha256, () =>
      this.repo.create(mediaId, {
        uploader: userId,
        created_ts: this.now(),
        authenticated: !this.config.legacyUnauthenticated,
        ...this.describe(meta),
        ...content,
      }),
    );
    return mxcUri(this.config.serverName, mediaId);
  }

  /** POST /_matrix/media/v1/create: reserve a media ID for a later PUT. */
  async create(userId: string): Promise<{ content_uri: string; unused_expires_at: number }> {
    return this.locks.run(`pending:${userId}`, async () => {
      const now = this.now();
      const pending = await this.repo.pendingOf(userId);
      const expired = pending.filter((p) => p.expiresAt <= now);
      if (expired.length > 0) await this.repo.removeExpired(userId, expired);
      const live = pending.filter((p) => p.expiresAt > now);
      // Spec: content-repo.yaml POST /create — limit concurrent pending uploads with 429.
      if (live.length >= this.config.maxPendingUploads) {
        throw limitExceeded(Math.min(...live.map((p) => p.expiresAt)) - now);
      }
      const mediaId = newMediaId();
      const expiresAt = now + this.config.pendingUploadLifetimeMs;
      await this.repo.create(mediaId, {
        uploader: userId,
        created_ts: now,
        authenticated: !this.config.legacyUnauthenticated,
        unused_expires_at: expiresAt,
      });
      return { content_uri: mxcUri(this.config.serverName, mediaId), unused_expires_at: expiresAt };
    });
  }

  /** PUT /_matrix/media/v3/upload/{serverName}/{mediaId}: the content of a created media ID. */
  async uploadTo(
    userId: string,
    serverName: string,
    mediaId: string,
    body: Readable,
    meta: { contentType?: string; filename?: string },
  ): Promise<void> {
    // Checked before reading the body, so a refused upload costs nothing; checked again
    // before committing, since another PUT may have finished meanwhile.
    await this.checkUploadable(userId, serverName, mediaId);
    const content = await this.storeContent(body);
    await this.locks.run(`media:${mediaId}`, async () => {
      const rec = await this.checkUploadable(userId, serverName, mediaId);
      const { unused_expires_at: _, ...rest } = rec;
      await this.guarded(content.sha256, () => this.repo.complete(mediaId, { ...rest, ...this.describe(meta), ...content }));
    });
    this.wake(mediaId);
  }

  /** The content of media, for the download endpoints. */
  async download(serverName: string, mediaId: string, opts: DownloadOptions = {}): Promise<MediaContent> {
    const { record } = await this.resolve(serverName, mediaId, opts);
    const content = await this.store.get(record.sha256!);
    if (!content) throw notFound('Media not found');
    return {
      ...content,
      contentType: servedContentType(record.content_type ?? 'application/octet-stream', record.sniffed_type),
      uploadName: record.upload_name,
    };
  }

  /** A thumbnail (or the original, when it is no larger than asked). */
  async thumbnail(serverName: string, mediaId: string, req: ThumbnailRequest): Promise<MediaContent> {
    const { record, thumbnailId } = await this.resolve(serverName, mediaId, req);
    // Spec: authed-content-repo.yaml thumbnail 400 — "the server cannot thumbnail the content".
    const cannot = () => unknown('Cannot generate thumbnails for the requested content', 400);
    if (!record.sniffed_type || !THUMBNAILABLE_TYPES.has(record.sniffed_type)) throw cannot();
    const size = chooseThumbnailSize(req);
    const tkey = { method: size.method, width: size.width, height: size.height, animated: req.animated };
    const cached = await this.repo.getThumbnail(thumbnailId, tkey);
    if (cached) {
      const content = await this.store.get(cached.sha256);
      if (content) return { ...content, contentType: cached.content_type, uploadName: undefined };
    }
    const flightKey = `${thumbnailId}:${size.method}:${size.width}x${size.height}:${req.animated}`;
    let flight = this.generating.get(flightKey);
    if (!flight) {
      flight = this.generate(record, thumbnailId, tkey, req).finally(() => this.generating.delete(flightKey));
      this.generating.set(flightKey, flight);
    }
    const thumb = await flight;
    if (!thumb) {
      // The original is already small enough: serve it as it is.
      const content = await this.store.get(record.sha256!);
      if (!content) throw notFound('Media not found');
      return { ...content, contentType: record.sniffed_type, uploadName: undefined };
    }
    const content = await this.store.get(thumb.sha256);
    if (!content) throw notFound('Media not found');
    return { ...content, contentType: thumb.content_type, uploadName: undefined };
  }

  // ── admin API (Synapse's media admin API) ──────────────────────────────────

  /** A user's local media, newest first by default (Synapse's order). */
  async listOfUser(userId: string): Promise<Array<{ mediaId: string; record: MediaRecord }>> {
    const ids = await this.repo.listByUser(userId);
    const out: Array<{ mediaId: string; record: MediaRecord }> = [];
    for (const { mediaId } of ids) {
      const record = await this.repo.get(mediaId);
      if (record) out.push({ mediaId, record });
    }
    return out;
  }

  /**
   * Delete local media: records, thumbnails, and the bytes nothing else refers to (content
   * is shared between identical uploads). Returns the media IDs deleted.
   */
  async deleteLocal(mediaIds: string[]): Promise<string[]> {
    const deleted: string[] = [];
    const hashes = new Set<string>();
    for (const mediaId of mediaIds) {
      const rec = isValidMediaId(mediaId) ? await this.repo.get(mediaId) : undefined;
      if (!rec) continue;
      for (const t of await this.repo.thumbnailsOf(mediaId)) hashes.add(t.sha256);
      if (rec.sha256) hashes.add(rec.sha256);
      await this.repo.delete(mediaId, rec);
      deleted.push(mediaId);
    }
    await this.guard.deleteUnreferenced(hashes, (c) => this.repo.stillReferenced(c), (h) => this.store.delete(h));
    return deleted;
  }

  /** Release downloads waiting for pending uploads (server shutdown). */
  close(): void {
    for (const id of [...this.waiters.keys()]) this.wake(id);
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** The uploaded record of local (or remote) media, waiting for a pending upload if need be. */
  private async resolve(
    serverName: string,
    mediaId: string,
    opts: DownloadOptions,
  ): Promise<{ record: MediaRecord & { sha256: string }; thumbnailId: string }> {
    const timeoutMs = Math.min(Math.max(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, 0), MAX_TIMEOUT_MS);
    if (!isValidMediaId(mediaId)) throw notFound('Media not found');
    if (serverName !== this.config.serverName) {
      const remote = this.remote ? await this.remote.resolve(serverName, mediaId, { timeoutMs }) : undefined;
      if (!remote?.record.sha256) throw notFound('Media not found');
      return remote as { record: MediaRecord & { sha256: string }; thumbnailId: string };
    }
    let record = await this.repo.get(mediaId);
    if (record && record.sha256 === undefined && (record.unused_expires_at ?? 0) > this.now()) {
      await this.waitForUpload(mediaId, timeoutMs);
      record = await this.repo.get(mediaId);
      if (record && record.sha256 === undefined && (record.unused_expires_at ?? 0) > this.now()) throw notYetUploaded();
    }
    if (!record || record.sha256 === undefined || record.quarantined) throw notFound('Media not found');
    // Spec: content_repo.md "Client behaviour" — the freeze of unauthenticated media.
    if (opts.legacy && record.authenticated && !this.config.legacyUnauthenticated) throw notFound('Media not found');
    return { record: record as MediaRecord & { sha256: string }, thumbnailId: mediaId };
  }

  /** Write a record pointing at stored bytes, safe against a concurrent admin deletion of them. */
  private guarded<T>(sha256: string, write: () => Promise<T>): Promise<T> {
    return this.guard.holding(sha256, () => this.store.has(sha256), write);
  }

  private async checkUploadable(userId: string, serverName: string, mediaId: string): Promise<MediaRecord> {
    if (serverName !== this.config.serverName || !isValidMediaId(mediaId)) throw notFound('Unknown media ID');
    const rec = await this.repo.get(mediaId);
    if (!rec) throw notFound('Unknown media ID');
    if (rec.uploader !== userId) throw forbidden('Only the creator of the media ID can upload to it');
    if (rec.sha256 !== undefined) throw cannotOverwriteMedia();
    if ((rec.unused_expires_at ?? 0) <= this.now()) throw notFound('Media ID has expired');
    return rec;
  }

  /** Stream the body into the store, noting what its first bytes look like. */
  private async storeContent(body: Readable): Promise<{ sha256: string; size: number; sniffed_type?: string }> {
    const head: Buffer[] = [];
    let seen = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (seen < SNIFF_BYTES) head.push(chunk.subarray(0, SNIFF_BYTES - seen));
        seen += chunk.length;
        done(null, chunk);
      },
    });
    // Errors of the body (e.g. M_TOO_LARGE) reach the store through the tap.
    const stored = await this.store.put(pipeline(body, tap, () => {}));
    const sniffed = sniffContentType(Buffer.concat(head));
    return sniffed ? { ...stored, sniffed_type: sniffed } : stored;
  }

  private describe(meta: { contentType?: string; filename?: string }): Pick<MediaRecord, 'content_type' | 'upload_name'> {
    // Spec: content-repo.yaml — Content-Type defaults to application/octet-stream.
    const out: Pick<MediaRecord, 'content_type' | 'upload_name'> = { content_type: declaredContentType(meta.contentType) };
    if (meta.filename) out.upload_name = meta.filename;
    return out;
  }

  private async generate(
    record: MediaRecord & { sha256: string },
    thumbnailId: string,
    tkey: { method: ThumbnailMethod; width: number; height: number; animated: boolean },
    req: ThumbnailRequest,
  ): Promise<ThumbnailRecord | undefined> {
    const original = await this.store.get(record.sha256);
    if (!original) throw notFound('Media not found');
    const bytes = await readAll(original.stream);
    const info = await this.thumbnailer.probe(bytes);
    if (!info) throw unknown('Cannot generate thumbnails for the requested content', 400);
    // Spec: content_repo.md "Thumbnails" — content smaller than asked is returned as it is
    // (unless it moves and animation was not asked for).
    if (info.width <= req.width && info.height <= req.height && (info.pages === 1 || req.animated)) return undefined;
    const thumb = await this.thumbnailer.render(bytes, info, tkey, req.animated);
    const stored = await this.store.put(Readable.from([thumb.data]));
    const rec: ThumbnailRecord = { ...stored, content_type: thumb.contentType, width: thumb.width, height: thumb.height };
    await this.guarded(rec.sha256, () => this.repo.putThumbnail(thumbnailId, tkey, rec));
    this.logger.debug({ mediaId: thumbnailId, ...tkey }, 'thumbnail generated');
    return rec;
  }

  private waitForUpload(mediaId: string, timeoutMs: number): Promise<void> {
    const set = this.waiters.get(mediaId) ?? new Set<() => void>();
    this.waiters.set(mediaId, set);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(mediaId) === set) this.waiters.delete(mediaId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  private wake(mediaId: string): void {
    for (const w of [...(this.waiters.get(mediaId) ?? [])]) w();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
