// Text → search tokens, the same way for indexing and for queries: Unicode-normalised,
// lower-cased runs of letters, digits and marks (like the "unicode61" tokenizer of the
// SQLite FTS that Synapse uses). Pure.
import type { JsonObject } from '@parley/federation/core/types';
import type { SearchField } from '../storage/searchRepo.js';

/** Longer runs (hashes, base64 blobs) are not words anyone searches for; they would only bloat the index. */
const MAX_TOKEN_CHARS = 64;
/** At most this many distinct tokens per field. */
const MAX_TOKENS = 1024;

export function tokenize(text: string): string[] {
  const words = text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}\p{M}_]+/gu) ?? [];
  return words.filter((w) => [...w].length <= MAX_TOKEN_CHARS);
}

/** Token → occurrences, and the field's length in tokens. */
export function termCounts(text: string): { tokens: Map<string, number>; length: number } {
  const words = tokenize(text);
  const tokens = new Map<string, number>();
  for (const w of words) {
    if (!tokens.has(w) && tokens.size >= MAX_TOKENS) continue;
    tokens.set(w, (tokens.get(w) ?? 0) + 1);
  }
  return { tokens, length: words.length };
}

/** The search keys of search.md "room_events" → their field code. */
export const FIELD_OF_KEY: Record<'content.body' | 'content.name' | 'content.topic', SearchField> = {
  'content.body': 'b',
  'content.name': 'n',
  'content.topic': 't',
};

/**
 * The searchable text of an event, if any (search.md "room_events"): `content.body` of
 * m.room.message, `content.name` of m.room.name, and for m.room.topic `content.topic`
 * plus the text/plain representation in `content['m.topic']`.
 */
export function searchableText(type: string, content: JsonObject): { field: SearchField; text: string } | undefined {
  if (type === 'm.room.message' && typeof content.body === 'string') return { field: 'b', text: content.body };
  if (type === 'm.room.name' && typeof content.name === 'string') return { field: 'n', text: content.name };
  if (type === 'm.room.topic') {
    const parts: string[] = [];
    if (typeof content.topic === 'string') parts.push(content.topic);
    const rich = content['m.topic'];
    const reps = rich && typeof rich === 'object' && !Array.isArray(rich) ? (rich as JsonObject)['m.text'] : undefined;
    if (Array.isArray(reps)) {
      for (const r of reps) {
        if (!r || typeof r !== 'object' || Array.isArray(r)) continue;
        const rep = r as JsonObject;
        if ((rep.mimetype === undefined || rep.mimetype === 'text/plain') && typeof rep.body === 'string' && !parts.includes(rep.body)) parts.push(rep.body);
      }
    }
    return parts.length > 0 ? { field: 't', text: parts.join('\n') } : undefined;
  }
  return undefined;
}
