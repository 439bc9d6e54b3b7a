// Remembers the last stream position at which each key (a room, a user) changed in one
// stream of ours, so /sync can skip the range read for keys that did not change.
// Positions before the cache was created are unknown: then the answer is "maybe".
export class StreamChangeCache {
  private readonly last = new Map<string, number>();

  /** `earliest`: the stream position when the cache started; nothing before it is known. */
  constructor(private readonly earliest: number) {}

  record(key: string, pos: number): void {
    if ((this.last.get(key) ?? -1) < pos) this.last.set(key, pos);
  }

  /** False only when `key` certainly has no change after `since`. */
  mayHaveChangedSince(key: string, since: number): boolean {
    if (since < this.earliest) return true;
    return (this.last.get(key) ?? -1) > since;
  }
}
