// GET /media/preview_url: OpenGraph data of a web page, its image stored as media.
// Spec: authed-content-repo.yaml /media/preview_url. Where the spec is silent this follows
// Synapse: errors as it answers them, a one-hour cache, the image re-hosted as mxc://.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { MatrixError, forbidden, unknown } from '../../http/errors.js';
import type { UrlPreviewRepo } from '../../storage/mediaRepo.js';
import { SNIFF_BYTES, essenceOf, sniffContentType } from '../mime.js';
import type { IpPolicy } from './ipPolicy.js';
import { declaredCharset, parseOpenGraph } from './openGraph.js';
import { FetchRefused, safeFetch, type FetchLimits, type FetchedResource } from './safeFetch.js';

export interface PreviewPorts {
  /** Stores bytes as the user's media, returning the mxc:// URI (MediaService.upload). */
  storeMedia(userId: string, body: Readable, meta: { contentType?: string; filename?: string }): Promise<string>;
  /** Pixel size of an image, when it is one. */
  imageSize(bytes: Buffer): Promise<{ width: number; height: number } | undefined>;
}

const CACHE_MS = 60 * 60 * 1000;
const MAX_URL_LENGTH = 2048;
// As Synapse's max_spider_size default.
export const DEFAULT_FETCH_LIMITS: FetchLimits = { maxBytes: 10 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 5 };

export class UrlPreviewer {
  private readonly inflight = new Map<string, Promise<Record<string, unknown>>>();

  constructor(
    private readonly cache: UrlPreviewRepo,
    private readonly policy: IpPolicy,
    private readonly ports: PreviewPorts,
    private readonly logger: Logger,
    private readonly limits: FetchLimits = DEFAULT_FETCH_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  async preview(userId: string, rawUrl: string, ts?: number): Promise<Record<string, unknown>> {
    const url = normalise(rawUrl);
    const now = this.now();
    const cached = await this.cache.at(url, ts ?? now);
    if (cached) return cached.og;
    let flight = this.inflight.get(url);
    if (!flight) {
      flight = this.fetchPreview(userId, url, now).finally(() => this.inflight.delete(url));
      this.inflight.set(url, flight);
    }
    return flight;
  }

  private async fetchPreview(userId: string, url: string, now: number): Promise<Record<string, unknown>> {
    const page = await this.fetch(url);
    let og: Record<string, unknown> = {};
    const type = page.contentType ? essenceOf(page.contentType) : sniffContentType(page.body.subarray(0, SNIFF_BYTES));
    if (type?.startsWith('image/')) {
      og = { ...(await this.storeImage(userId, page)) };
    } else if (type === 'text/html' || type === 'application/xhtml+xml') {
      const og2: Record<string, unknown> = parseOpenGraph(decodeHtml(page));
      const imageUrl = typeof og2['og:image'] === 'string' ? resolveUrl(og2['og:image'], page.url) : undefined;
      delete og2['og:image'];
      if (imageUrl) {
        try {
          const img = await this.fetch(imageUrl);
          Object.assign(og2, await this.storeImage(userId, img));
        } catch (err) {
          this.logger.debug({ err, url: imageUrl }, 'preview image not fetched');
        }
      }
      og = og2;
    }
    await this.cache.put(url, now, { og, expires_ts: now + CACHE_MS });
    return og;
  }

  private async fetch(url: string): Promise<FetchedResource> {
    let res: FetchedResource;
    try {
      res = await safeFetch(url, this.policy, this.limits);
    } catch (err) {
      throw asMatrixError(err);
    }
    if (res.status < 200 || res.status >= 300) throw new MatrixError(502, 'M_UNKNOWN', `Got error ${res.status} fetching the URL`);
    return res;
  }

  /** The og:image fields for an image: re-hosted as media, with its type, size and dimensions. */
  private async storeImage(userId: string, res: FetchedResource): Promise<Record<string, unknown>> {
    const size = await this.ports.imageSize(res.body);
    if (!size) return {};
    const contentType = sniffContentType(res.body.subarray(0, SNIFF_BYTES)) ?? res.contentType ?? 'application/octet-stream';
    const filename = fileNameOf(res.url);
    const mxc = await this.ports.storeMedia(userId, Readable.from([res.body]), { contentType, filename });
    return {
      'og:image': mxc,
      'og:image:type': contentType,
      'og:image:width': size.width,
      'og:image:height': size.height,
      'matrix:image:size': res.body.length,
    };
  }
}

function normalise(raw: string): string {
  if (raw.length > MAX_URL_LENGTH) throw unknown('URL too long', 400);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw unknown('Invalid URL', 400);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw unknown('Only http and https URLs can be previewed', 400);
  u.hash = ''; // never sent to the server, so never part of what is previewed
  return u.toString();
}

function fileNameOf(url: string): string | undefined {
  const last = new URL(url).pathname.split('/').pop() ?? '';
  try {
    return decodeURIComponent(last) || undefined;
  } catch {
    return last || undefined;
  }
}

function resolveUrl(ref: string, base: string): string | undefined {
  try {
    const u = new URL(ref, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** The page's text, in the charset its header or a meta tag declares (UTF-8 otherwise). */
function decodeHtml(page: FetchedResource): string {
  const fromHeader = /;\s*charset="?([\w.:-]+)/i.exec(page.contentType ?? '')?.[1];
  const charset = fromHeader ?? declaredCharset(page.body.subarray(0, 4096).toString('latin1')) ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(page.body);
  } catch {
    return new TextDecoder('utf-8').decode(page.body);
  }
}

function asMatrixError(err: unknown): unknown {
  if (!(err instanceof FetchRefused)) return err;
  switch (err.reason) {
    case 'blocked-ip':
      return forbidden(err.message);
    case 'bad-url':
      return unknown(err.message, 400);
    case 'too-large':
      return new MatrixError(502, 'M_TOO_LARGE', err.message);
    case 'timeout':
      return new MatrixError(504, 'M_UNKNOWN', err.message);
    default:
      // blocked-dns answers like a failed lookup, so it does not reveal what a name resolves to.
      return new MatrixError(502, 'M_UNKNOWN', err.message);
  }
}
