// Remembers the last stream position at which each key (a room, a user, a device)
// changed in one stream of ours, so /sync can skip the range read for keys that did not
// change. Positions before the cache was created are unknown: then the answer is "maybe".
// Bounded: evicting a key raises the earliest known position to its last change, so an
// evicted key is again "maybe" for tokens older than that, never "certainly not".
const DEFAULT_MAX_KEYS = 100_000;

export class StreamChangeCache {
  /** Last change per key; re-inserted on each change, so the stalest key comes first. */
  private readonly last = new Map<string, number>();
  private earliest: number;

  /** `earliest`: the stream position when the cache started; nothing before it is known. */
  constructor(
    earliest: number,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    this.earliest = earliest;
  }

  /** Call before the position becomes readable (when the write is staged), so no reader can miss it. */
  record(key: string, pos: number): void {
    const prev = this.last.get(key);
    if (prev !== undefined && prev >= pos) return;
    this.last.delete(key);
    this.last.set(key, pos);
    if (this.last.size > this.maxKeys) {
      const [oldKey, oldPos] = this.last.entries().next().value as [string, number];
      this.last.delete(oldKey);
      if (oldPos > this.earliest) this.earliest = oldPos;
    }
  }

  /** False only when `key` certainly has no change after `since`. */
  mayHaveChangedSince(key: string, since: number): boolean {
    if (since < this.earliest) return true;
    return (this.last.get(key) ?? -1) > since;
  }

  /** The position from which changes are known (raised by evictions). */
  get earliestKnown(): number {
    return this.earliest;
  }

  /** The last change of `key` recorded (undefined if none, or evicted). */
  lastChange(key: string): number | undefined {
    return this.last.get(key);
  }
}

/**
 * The newest position of a whole stream (any key). Cold until the first `observe` of what
 * storage holds, so a restart reads once rather than assuming nothing changed.
 */
export class StreamHead {
  private max = -1;
  private known = false;

  /** A write at `pos` is being staged. */
  record(pos: number): void {
    if (pos > this.max) this.max = pos;
  }

  /** The newest position storage held when read (0 if none); merges with writes staged meanwhile. */
  observe(storedMax: number): void {
    this.record(storedMax);
    this.known = true;
  }

  get isKnown(): boolean {
    return this.known;
  }

  /** False only when nothing in the stream is newer than `since`. */
  mayHaveChangedSince(since: number): boolean {
    return !this.known || this.max > since;
  }
}
