// Media metadata: records of local media, the per-user indexes, generated thumbnails and
// cached URL previews. The bytes themselves live in the media store (media/mediaStore.ts).
// Layouts: schema.ts "media" section.
import type { BatchOp, Database } from './db.js';
import { key, prefixRange, readU64, splitStrings } from './keys.js';
import { strKey } from './db.js';

export interface MediaRecord {
  uploader: string;
  created_ts: number;
  /**
   * Uploaded while the deprecated unauthenticated endpoints were frozen: served only by
   * the authenticated ones (spec: content_repo.md "Client behaviour", the freeze).
   */
  authenticated: boolean;
  /** The Content-Type the uploader declared. */
  content_type?: string;
  upload_name?: string;
  /** The content's address in the media store; absent while an async upload is pending. */
  sha256?: string;
  size?: number;
  /** What the bytes look like (media/mime.ts), when recognisable. */
  sniffed_type?: string;
  /** Pending async uploads: when the unused ID expires. */
  unused_expires_at?: number;
  quarantined?: { by: string; ts: number };
}

export interface ThumbnailRecord {
  sha256: string;
  content_type: string;
  size: number;
  width: number;
  height: number;
}

export interface ThumbnailKey {
  method: string;
  width: number;
  height: number;
  animated: boolean;
}

export interface PendingUpload {
  mediaId: string;
  expiresAt: number;
}

export class MediaRepo {
  constructor(private readonly db: Database) {}

  get(mediaId: string): Promise<MediaRecord | undefined> {
    return this.db.get<MediaRecord>('mediaid_media', strKey(mediaId));
  }

  /** A new media ID with its record, in the uploader's index (and pending list while it has no content). */
  async create(mediaId: string, rec: MediaRecord): Promise<void> {
    const ops: BatchOp[] = [
      this.db.put('mediaid_media', strKey(mediaId), rec),
      this.db.put('usermedia_media', key(rec.uploader, rec.created_ts, mediaId), true),
    ];
    if (rec.sha256 === undefined) {
      ops.push(this.db.put('userpending_media', key(rec.uploader, mediaId), rec.unused_expires_at ?? 0));
    }
    await this.db.write(ops);
  }

  /** Give a pending media ID its content (the record replaces the pending one). */
  async complete(mediaId: string, rec: MediaRecord): Promise<void> {
    await this.db.write([
      this.db.put('mediaid_media', strKey(mediaId), rec),
      this.db.del('userpending_media', key(rec.uploader, mediaId)),
    ]);
  }

  /** The user's created-but-not-uploaded media IDs (expired ones included). */
  async pendingOf(userId: string): Promise<PendingUpload[]> {
    const rows = await this.db.range<number>('userpending_media', prefixRange(key(userId)));
    return rows.map(([k, expiresAt]) => ({ mediaId: splitStrings(k)[1], expiresAt }));
  }

  /** Forget pending media IDs that expired unused. */
  async removeExpired(userId: string, pending: PendingUpload[]): Promise<void> {
    const ops: BatchOp[] = [];
    for (const p of pending) {
      const rec = await this.get(p.mediaId);
      ops.push(this.db.del('userpending_media', key(userId, p.mediaId)));
      if (rec && rec.sha256 === undefined) {
        ops.push(this.db.del('mediaid_media', strKey(p.mediaId)));
        ops.push(this.db.del('usermedia_media', key(userId, rec.created_ts, p.mediaId)));
      }
    }
    await this.db.write(ops);
  }

  /** A user's media IDs in upload order, for the admin API. */
  async listByUser(userId: string, opts: { limit?: number } = {}): Promise<Array<{ mediaId: string; createdTs: number }>> {
    const prefix = key(userId);
    const rows = await this.db.range<true>('usermedia_media', { ...prefixRange(prefix), limit: opts.limit });
    return rows.map(([k]) => ({
      createdTs: readU64(k, prefix.length),
      mediaId: k.toString('utf8', prefix.length + 8, k.length - 1),
    }));
  }

  /** The media's thumbnails (admin deletion). */
  async thumbnailsOf(mediaId: string): Promise<ThumbnailRecord[]> {
    const rows = await this.db.range<ThumbnailRecord>('mediathumb_thumb', prefixRange(key(mediaId)));
    return rows.map(([, v]) => v);
  }

  /** Delete a media record with its indexes and thumbnail records (not the bytes: see media/mediaAdmin.ts). */
  async delete(mediaId: string, rec: MediaRecord): Promise<void> {
    const thumbs = await this.db.range<ThumbnailRecord>('mediathumb_thumb', prefixRange(key(mediaId)));
    await this.db.write([
      this.db.del('mediaid_media', strKey(mediaId)),
      this.db.del('usermedia_media', key(rec.uploader, rec.created_ts, mediaId)),
      this.db.del('userpending_media', key(rec.uploader, mediaId)),
      ...thumbs.map(([k]) => this.db.del('mediathumb_thumb', k)),
    ]);
  }

  /**
   * Which of `hashes` some media or thumbnail record still refers to. One pass over both
   * keyspaces: content is deduplicated by hash, so bytes may only go when nothing refers to them.
   */
  async stillReferenced(hashes: ReadonlySet<string>): Promise<Set<string>> {
    const found = new Set<string>();
    if (hashes.size === 0) return found;
    for await (const v of this.db.space('mediaid_media').values()) {
      const h = (v as MediaRecord).sha256;
      if (h !== undefined && hashes.has(h)) found.add(h);
    }
    for await (const v of this.db.space('mediathumb_thumb').values()) {
      const h = (v as ThumbnailRecord).sha256;
      if (hashes.has(h)) found.add(h);
    }
    return found;
  }

  getThumbnail(mediaId: string, t: ThumbnailKey): Promise<ThumbnailRecord | undefined> {
    return this.db.get<ThumbnailRecord>('mediathumb_thumb', thumbKey(mediaId, t));
  }

  async putThumbnail(mediaId: string, t: ThumbnailKey, rec: ThumbnailRecord): Promise<void> {
    await this.db.write([this.db.put('mediathumb_thumb', thumbKey(mediaId, t), rec)]);
  }
}

const thumbKey = (mediaId: string, t: ThumbnailKey) => key(mediaId, t.method, t.width, t.height, t.animated ? 'a' : 's');

export interface CachedPreview {
  og: Record<string, unknown>;
  expires_ts: number;
}

/** URL previews, one entry per fetch, so that a `ts` in the past can find the preview of then. */
export class UrlPreviewRepo {
  constructor(private readonly db: Database) {}

  /** The latest preview fetched at or before `ts`, if it was still fresh at `ts`. */
  async at(url: string, ts: number): Promise<CachedPreview | undefined> {
    const prefix = key(url);
    const [row] = await this.db.range<CachedPreview>('urlts_preview', { gte: prefix, lte: key(url, ts), reverse: true, limit: 1 });
    if (!row || row[1].expires_ts <= ts) return undefined;
    return row[1];
  }

  async put(url: string, fetchedTs: number, entry: CachedPreview): Promise<void> {
    await this.db.write([this.db.put('urlts_preview', key(url, fetchedTs), entry)]);
  }
}
