// Map keys of two parts (`a\u0000b`: user and device, user and room), made once per pair.
// A key concatenated afresh for each lookup costs V8 a flatten and a hash every time:
// 0.5–1.8 µs per lookup in maps of 100–50,000 entries on this project's machine, against
// 0.1–0.3 µs through here, where the parts (IDs handed around as the same string objects)
// are hashed once and the key, once used, keeps its hash. A woken /sync makes about ten
// such lookups, and the push worker several per recipient of a message.
// Bounded: past `capacity` pairs everything is dropped, which only costs making keys again.

const DEFAULT_CAPACITY = 100_000;

export class PairKeys {
  private byFirst = new Map<string, Map<string, string>>();
  private count = 0;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  of(a: string, b: string): string {
    let inner = this.byFirst.get(a);
    let k = inner?.get(b);
    if (k !== undefined) return k;
    if (this.count >= this.capacity) {
      this.byFirst = new Map();
      this.count = 0;
      inner = undefined;
    }
    if (inner === undefined) this.byFirst.set(a, (inner = new Map()));
    k = `${a}\u0000${b}`;
    inner.set(b, k);
    this.count++;
    return k;
  }
}
