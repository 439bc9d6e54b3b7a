// Content types: sniffing uploads by their magic bytes, deciding what type to serve,
// and which types may be shown inline. Spec: client-server-api/modules/content_repo.md
// "Serving inline content"; authed-content-repo.yaml `downloadContentType` bounds what
// the served type may differ from the declared one.

/** How many leading bytes sniffing looks at. */
export const SNIFF_BYTES = 1024;

const startsWith = (b: Buffer, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);
const ascii = (b: Buffer, s: string, at = 0) => b.length >= at + s.length && b.toString('latin1', at, at + s.length) === s;

/** The type the bytes are recognisably in, or undefined. Only definite signatures count. */
export function sniffContentType(head: Buffer): string | undefined {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii(head, 'GIF87a') || ascii(head, 'GIF89a')) return 'image/gif';
  if (ascii(head, 'RIFF') && ascii(head, 'WEBP', 8)) return 'image/webp';
  if (ascii(head, 'RIFF') && ascii(head, 'WAVE', 8)) return 'audio/wav';
  if (ascii(head, 'ftyp', 4)) {
    const brand = head.toString('latin1', 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'image/avif';
    if (brand.startsWith('qt')) return 'video/quicktime';
    if (brand.startsWith('M4A')) return 'audio/mp4';
    return 'video/mp4';
  }
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (ascii(head, 'OggS')) return 'audio/ogg';
  if (ascii(head, 'fLaC')) return 'audio/flac';
  if (ascii(head, 'ID3')) return 'audio/mpeg';
  if (ascii(head, '%PDF-')) return 'application/pdf';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'application/zip';
  if (startsWith(head, [0x1f, 0x8b])) return 'application/gzip';
  return sniffMarkup(head);
}

/** HTML and SVG: text that a browser would run scripts in. */
function sniffMarkup(head: Buffer): string | undefined {
  let text = head.toString('utf8').replace(/^\uFEFF/, '');
  // Skip whitespace, an XML declaration, comments and a doctype other than html.
  for (;;) {
    const before = text;
    text = text.replace(/^\s+/, '');
    text = text.replace(/^<\?xml[\s\S]*?\?>/i, '');
    text = text.replace(/^<!--[\s\S]*?-->/, '');
    if (/^<!doctype\s+svg/i.test(text)) return 'image/svg+xml';
    if (/^<!doctype\s+html/i.test(text)) return 'text/html';
    text = text.replace(/^<!doctype[^>]*>/i, '');
    if (text === before) break;
  }
  if (/^<svg[\s>/]/i.test(text)) return 'image/svg+xml';
  if (/^<(html|head|body|script|iframe|title|style|div|a|p|table|font|br|b|h1|img|object|embed)[\s>/]/i.test(text)) {
    return 'text/html';
  }
  return undefined;
}

/** `type/subtype` lower-cased, without parameters. */
export function essenceOf(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

// RFC 9110 media type: token "/" token, then parameters; nothing that could break a header.
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=("[^"\\\r\n]*"|[!#$%&'*+.^_`|~0-9A-Za-z-]+))*$/;

/** The declared Content-Type of an upload; the spec's default when absent or malformed. */
export function declaredContentType(header: string | undefined): string {
  const v = header?.trim();
  return v && MEDIA_TYPE.test(v) ? v : 'application/octet-stream';
}

const SCRIPTABLE = new Set(['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml', 'application/pdf']);
const SIGNED_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * The Content-Type to serve: the declared one, except (the spec's "reasonable" changes)
 * text that is really HTML/SVG is served as such, an image type whose bytes are not an
 * image (e.g. an encrypted file) becomes application/octet-stream, and text gets a charset.
 */
export function servedContentType(declared: string, sniffed: string | undefined): string {
  const essence = essenceOf(declared);
  if (essence.startsWith('text/') && essence !== 'text/html' && sniffed && SCRIPTABLE.has(sniffed)) return sniffed;
  if (SIGNED_IMAGES.has(essence) && !sniffed?.startsWith('image/')) return 'application/octet-stream';
  if (essence.startsWith('text/') && !/;\s*charset=/i.test(declared)) return `${declared}; charset=utf-8`;
  return declared;
}

// Spec: content_repo.md "Serving inline content" — the types safe to show inline.
const INLINE_SAFE = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

export const isInlineSafe = (contentType: string): boolean => INLINE_SAFE.has(essenceOf(contentType));

// RFC 5987 attr-char: everything else in filename* is percent-encoded.
const encodeAttr = (s: string) => encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Content-Disposition (RFC 6266): inline only for the spec's safe types. A plain ASCII name
 * goes in `filename="…"`; any other name in `filename*=utf-8''…` so it arrives unchanged.
 */
export function contentDisposition(contentType: string, filename: string | undefined): string {
  const kind = isInlineSafe(contentType) ? 'inline' : 'attachment';
  if (filename === undefined || filename === '') return kind;
  if (/^[\x20-\x7e]+$/.test(filename) && !/["\\]/.test(filename)) return `${kind}; filename="${filename}"`;
  return `${kind}; filename*=utf-8''${encodeAttr(filename)}`;
}

/** Headers on every media response, so content can never act as a page of ours. */
export const MEDIA_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  // Spec: content_repo.md — the recommended policy (plus media-src 'self', as Synapse, so
  // audio and video opened directly still play), and CORP since v1.4.
  'Content-Security-Policy':
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
  // As Synapse: keep uploads out of search engines.
  'X-Robots-Tag': 'noindex, nofollow, noarchive, noimageindex',
};
