// The one global stream counter. Every change a client can sync (room events,
// receipts, account data, typing, …) takes the next position; `/sync` tokens are
// positions.
//
// Writers to different rooms run concurrently, so position 7 may become durable
// before position 6. Readers must never see 7 while 6 is still being written (a
// client syncing "up to 7" would miss 6 forever), so readers use `persisted`: the
// highest position below which every position is finished.
//
// Positions are handed out from a block reserved durably in advance, so after any
// crash the counter restarts above every position a client may have seen.
import type { Database } from './db.js';

const RESERVED_KEY = Buffer.from('stream_reserved');
const BLOCK = 10_000;

export class StreamCounter {
  private readonly pending = new Set<number>();
  private readonly listeners: Array<(persisted: number) => void> = [];
  private persistedPos: number;
  private reserving: Promise<void> | undefined;

  private constructor(
    private readonly db: Database,
    private current: number,
    private reserved: number,
  ) {
    this.persistedPos = current;
  }

  static async open(db: Database): Promise<StreamCounter> {
    const reserved = (await db.get<number>('meta_value', RESERVED_KEY)) ?? 0;
    // Everything below `reserved` may have been handed out before a crash: start above it.
    const counter = new StreamCounter(db, reserved, reserved);
    await counter.reserve();
    return counter;
  }

  /** The highest position such that it and every position below it are finished. Sync reads up to here. */
  get persisted(): number {
    return this.persistedPos;
  }

  /**
   * Take the next position for a write. The caller MUST call `finish(pos)` when the
   * write is durable — or has failed (a failed position is simply an empty gap).
   */
  next(): number {
    if (this.current + 1 >= this.reserved) throw new Error('stream counter ran past its durable reservation');
    this.current += 1;
    if (this.current >= this.reserved - BLOCK / 2 && !this.reserving) void this.reserve();
    this.pending.add(this.current);
    return this.current;
  }

  /**
   * Pass over up to `n` positions (fewer when the durable reservation is nearer) that nothing
   * in the global order will ever take: a timeline gap's, filled later by backfill in the
   * room's order only. Returns the first and how many. They are never pending (nothing is
   * written there now), so call next() right after for the write that owns them.
   */
  skip(n: number): { first: number; count: number } {
    const count = Math.max(0, Math.min(n, this.reserved - this.current - 2));
    const first = this.current + 1;
    this.current += count;
    if (this.current >= this.reserved - BLOCK / 2 && !this.reserving) void this.reserve();
    return { first, count };
  }

  /** Mark a position finished; advances `persisted` and tells listeners when it moves. */
  finish(pos: number): void {
    if (!this.pending.delete(pos)) return;
    let p = this.current;
    for (const q of this.pending) if (q - 1 < p) p = q - 1;
    if (p > this.persistedPos) {
      this.persistedPos = p;
      for (const l of this.listeners) l(p);
    }
  }

  /** Take a position, run the write, finish the position whatever happens. */
  async run<T>(write: (pos: number) => Promise<T>): Promise<T> {
    const pos = this.next();
    try {
      return await write(pos);
    } finally {
      this.finish(pos);
    }
  }

  /** Called with the new `persisted` position whenever it advances. */
  onAdvance(listener: (persisted: number) => void): void {
    this.listeners.push(listener);
  }

  private async reserve(): Promise<void> {
    const target = this.current + BLOCK;
    this.reserving = this.db.write([this.db.put('meta_value', RESERVED_KEY, target)]);
    await this.reserving;
    this.reserved = target;
    this.reserving = undefined;
  }
}
