// Glob patterns of push rules, compiled once to RegExps and cached.
// Spec: appendices.md "Glob-style matching" (`*` any run of characters, `?` exactly one);
// client-server-api/modules/push.md "Conditions" (case-insensitive; for `content.body`
// a match of any substring that starts and ends at a word boundary).
import { Lru } from '../storage/lru.js';

/** Not a word character: the spec's boundary is anything outside [A-Za-z0-9_]. */
const NON_WORD = '[^A-Za-z0-9_]';

/** RegExp syntax characters (the only ones that may be escaped in unicode mode). */
const SPECIAL = /[.*+?^${}()|[\]\\/]/g;

const cache = new Lru<string, RegExp>(10_000);

/**
 * The RegExp for `pattern`: matching the whole value, or (`words`) any substring of it
 * bounded by the start/end of the value or a non-word character.
 */
export function globToRegExp(pattern: string, words = false): RegExp {
  const cacheKey = (words ? 'w' : 'v') + pattern;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  let body = '';
  // Iterate by code point, so that `?` and literals handle astral characters whole.
  for (const ch of pattern) {
    if (ch === '*') {
      // Runs of `*` mean the same as one; collapsing them avoids needless backtracking.
      if (!body.endsWith('[\\s\\S]*')) body += '[\\s\\S]*';
    } else if (ch === '?') body += '[\\s\\S]';
    else body += ch.replace(SPECIAL, '\\$&');
  }
  const source = words ? `(?:^|${NON_WORD})${body}(?:${NON_WORD}|$)` : `^${body}$`;
  const re = new RegExp(source, 'iu');
  cache.set(cacheKey, re);
  return re;
}

export function globMatches(pattern: string, value: string, words = false): boolean {
  return globToRegExp(pattern, words).test(value);
}

/** `literal` (no wildcards) found in `value` at word boundaries, case-insensitively: contains_display_name. */
export function containsWords(literal: string, value: string): boolean {
  return literalWordRegExp(literal).test(value);
}

const literalCache = new Lru<string, RegExp>(10_000);

function literalWordRegExp(literal: string): RegExp {
  const hit = literalCache.get(literal);
  if (hit) return hit;
  const escaped = literal.replace(SPECIAL, '\\$&');
  const re = new RegExp(`(?:^|${NON_WORD})${escaped}(?:${NON_WORD}|$)`, 'iu');
  literalCache.set(literal, re);
  return re;
}
