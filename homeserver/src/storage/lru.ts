// A small bounded cache that evicts entries not used lately ("second chance", an
// approximation of least-recently-used): a hit only marks its entry, so the hot paths that
// read these caches on every request (room lists, counts, e2ee state) do not delete and
// re-insert a Map entry per hit. When full, the oldest entries that were used since they
// last reached the front move to the back once; the first one that was not is evicted.

interface Entry<V> {
  value: V;
  used: boolean;
}

export class Lru<K, V> {
  private readonly map = new Map<K, Entry<V>>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    e.used = true;
    return e.value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, { value, used: false });
    if (this.map.size > this.capacity) this.evictOne(key);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }

  /** Evicts one entry other than `keep` (the one just added). */
  private evictOne(keep: K): void {
    // Every entry moved to the back has its mark cleared, so this ends within one pass.
    for (const [key, e] of this.map) {
      if (!e.used && key !== keep) {
        this.map.delete(key);
        return;
      }
      e.used = false;
      this.map.delete(key);
      this.map.set(key, e);
    }
  }
}
