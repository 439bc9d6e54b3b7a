// Dot-separated property paths (`content.m\.relates_to.rel_type`), split once and cached.
// Spec: appendices.md "Dot-separated property paths": `\.` is a literal dot and `\\` a
// literal backslash inside a name; any other `\x` stays as written.
import { Lru } from '../storage/lru.js';

const cache = new Lru<string, readonly string[]>(10_000);

export function splitPath(path: string): readonly string[] {
  const hit = cache.get(path);
  if (hit) return hit;
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === '\\' && (path[i + 1] === '.' || path[i + 1] === '\\')) {
      cur += path[++i];
    } else if (ch === '.') {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  cache.set(path, parts);
  return parts;
}

/** The value at `path` inside `obj`, or undefined when any step is missing or not an object. */
export function valueAtPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const name of splitPath(path)) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, name)) return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return cur;
}
