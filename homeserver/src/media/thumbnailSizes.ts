// Which thumbnail to make for a request. Spec: client-server-api/modules/content_repo.md
// "Thumbnails": the requested size is a minimum, never upscale, and the recommended sizes.
// Requests are rounded up to a recommended size so that each media has few variants to
// generate and cache; only requests larger than all of them are served at their own size.

export type ThumbnailMethod = 'crop' | 'scale';

export interface ThumbnailSize {
  width: number;
  height: number;
  method: ThumbnailMethod;
}

export const RECOMMENDED_SIZES: readonly ThumbnailSize[] = [
  { width: 32, height: 32, method: 'crop' },
  { width: 96, height: 96, method: 'crop' },
  { width: 320, height: 240, method: 'scale' },
  { width: 640, height: 480, method: 'scale' },
  { width: 800, height: 600, method: 'scale' },
];

/** Larger requests are clamped to this many pixels per side. */
export const MAX_THUMBNAIL_SIDE = 1920;

/** The size to generate: the smallest recommended one of the same method that covers the request. */
export function chooseThumbnailSize(req: ThumbnailSize): ThumbnailSize {
  const fits = RECOMMENDED_SIZES.filter((s) => s.method === req.method && s.width >= req.width && s.height >= req.height);
  fits.sort((a, b) => a.width * a.height - b.width * b.height);
  if (fits.length > 0) return fits[0];
  return {
    width: Math.min(req.width, MAX_THUMBNAIL_SIDE),
    height: Math.min(req.height, MAX_THUMBNAIL_SIDE),
    method: req.method,
  };
}

/**
 * The output dimensions for an original of `w`×`h`, without ever upscaling.
 * scale: fit inside the box, keeping the aspect ratio. crop: exactly the box when the
 * original covers it, else the largest rectangle of the box's aspect inside the original.
 */
export function outputDimensions(w: number, h: number, size: ThumbnailSize): { width: number; height: number } {
  if (size.method === 'scale') {
    const k = Math.min(1, size.width / w, size.height / h);
    return { width: Math.max(1, Math.round(w * k)), height: Math.max(1, Math.round(h * k)) };
  }
  if (w >= size.width && h >= size.height) return { width: size.width, height: size.height };
  const k = Math.min(w / size.width, h / size.height);
  return { width: Math.max(1, Math.floor(size.width * k)), height: Math.max(1, Math.floor(size.height * k)) };
}
