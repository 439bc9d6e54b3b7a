// Token buckets, one per (class, caller). A caller is a user ID after login, an IP before.
import { limitExceeded } from './errors.js';
import type { RateLimitClass } from './route.js';

export interface BucketConfig {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed in a burst. */
  burst: number;
}

export type RateLimitConfig = Record<RateLimitClass, BucketConfig>;

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: RateLimitConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take one token or throw M_LIMIT_EXCEEDED telling when the next one will be there. */
  take(cls: RateLimitClass, caller: string): void {
    const { perSecond, burst } = this.config[cls];
    const id = `${cls}|${caller}`;
    const now = this.now();
    const b = this.buckets.get(id) ?? { tokens: burst, updated: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.updated) / 1000) * perSecond);
    b.updated = now;
    if (b.tokens < 1) {
      this.buckets.set(id, b);
      throw limitExceeded(Math.ceil(((1 - b.tokens) / perSecond) * 1000));
    }
    b.tokens -= 1;
    this.buckets.set(id, b);
    if (this.buckets.size > 100_000) this.sweep(now);
  }

  /** Forget full buckets so that memory stays bounded by active callers. */
  private sweep(now: number): void {
    for (const [id, b] of this.buckets) {
      const cls = id.slice(0, id.indexOf('|')) as RateLimitClass;
      const { perSecond, burst } = this.config[cls];
      if (b.tokens + ((now - b.updated) / 1000) * perSecond >= burst) this.buckets.delete(id);
    }
  }
}
