// An in-memory map from token hash to requester in front of storage, so that a
// request does not cost a database read to authenticate. Bounded (least recently
// used entries go first).
//
// Revocation must win over a concurrent lookup: a lookup that read storage
// before a revocation was written must not put the dead token back into the
// cache afterwards. Every eviction bumps `generation`; a lookup caches its result
// only if no eviction happened while it was reading.
import type { Requester } from '../http/route.js';

export class TokenCache {
  private readonly entries = new Map<string, Requester>();
  private gen = 0;

  constructor(private readonly maxEntries = 10_000) {}

  get generation(): number {
    return this.gen;
  }

  get(hashHex: string): Requester | undefined {
    const r = this.entries.get(hashHex);
    if (r) {
      this.entries.delete(hashHex);
      this.entries.set(hashHex, r);
    }
    return r;
  }

  /** Cache a lookup result unless an eviction happened since `readAtGeneration`. */
  set(hashHex: string, requester: Requester, readAtGeneration: number): void {
    if (readAtGeneration !== this.gen) return;
    this.entries.set(hashHex, requester);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  evict(hashHexes: Iterable<string>): void {
    this.gen++;
    for (const h of hashHexes) this.entries.delete(h);
  }

  /** Forget every cached token of a user (e.g. when their admin flag changes). */
  evictUser(userId: string): void {
    this.gen++;
    for (const [h, r] of this.entries) if (r.userId === userId) this.entries.delete(h);
  }
}
