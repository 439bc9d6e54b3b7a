// OpenGraph metadata from an HTML page (https://ogp.me/): the `og:*` meta tags, with
// Synapse's fallbacks (the <title> and the description meta tag). A small tolerant
// scanner, not a full HTML parser: meta tags and the title are all a preview needs.

/** At most this much of a page is scanned: the metadata lives in <head>. */
const SCAN_CHARS = 1024 * 1024;
const MAX_DESCRIPTION = 500;

export type OpenGraph = Record<string, string>;

export function parseOpenGraph(html: string): OpenGraph {
  const text = html.slice(0, SCAN_CHARS).replace(/<!--[\s\S]*?-->/g, '');
  const og: OpenGraph = {};
  let description: string | undefined;
  for (const m of text.matchAll(/<meta\b([^>]*)>/gi)) {
    const attrs = parseAttributes(m[1]);
    const prop = (attrs.property ?? attrs.name ?? '').toLowerCase();
    const content = attrs.content;
    if (content === undefined) continue;
    if (prop.startsWith('og:') && !(prop in og)) og[prop] = decodeEntities(content).trim();
    if (prop === 'description' && description === undefined) description = decodeEntities(content).trim();
  }
  if (og['og:title'] === undefined) {
    const title = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(text);
    if (title) og['og:title'] = decodeEntities(title[1]).replace(/\s+/g, ' ').trim();
  }
  if (og['og:description'] === undefined && description) og['og:description'] = description;
  if (og['og:description'] && og['og:description'].length > MAX_DESCRIPTION) {
    og['og:description'] = og['og:description'].slice(0, MAX_DESCRIPTION - 1) + '…';
  }
  for (const [k, v] of Object.entries(og)) if (v === '') delete og[k];
  return og;
}

/** The character set a page declares in a <meta> tag, if any. */
export function declaredCharset(head: string): string | undefined {
  const m = /<meta\b[^>]*charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head);
  return m?.[1];
}

function parseAttributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
    const name = m[1].toLowerCase();
    if (!(name in out)) out[name] = m[2] ?? m[3] ?? m[4] ?? '';
  }
  return out;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ent.toLowerCase()] ?? whole;
  });
}
