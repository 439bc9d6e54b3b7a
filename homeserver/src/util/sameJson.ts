// Equality of JSON values without encoding them: a member event that would not change
// anything (rooms/membershipService.ts), an answer that equals an earlier one
// (sync/sharedAnswers.ts).

/**
 * Whether two values encode to equal JSON values (plain objects and arrays, compared in depth;
 * key order aside), leaving out the top-level key `skip`. Anything else that is not
 * identical — a class instance, NaN, an undefined member — counts as different.
 */
export function sameJson(a: unknown, b: unknown, skip?: string): boolean {
  if (a === b) return typeof a !== 'number' || Number.isFinite(a);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (k === skip) continue;
    if (!Object.hasOwn(y, k) || x[k] === undefined || !sameJson(x[k], y[k])) return false;
    n++;
  }
  for (const k in y) if (k !== skip) n--;
  return n === 0;
}
