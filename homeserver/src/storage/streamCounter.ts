// The one global stream counter. Every change a client can sync (room events,
// receipts, account data, typing, …) takes the next position; `/sync` tokens are
// positions. Positions are handed out from a block reserved durably in advance, so
// after any crash the counter restarts above every position a client may have seen.
import type { Database } from './db.js';

const RESERVED_KEY = Buffer.from('stream_reserved');
const BLOCK = 10_000;

export class StreamCounter {
  private constructor(
    private readonly db: Database,
    private current: number,
    private reserved: number,
  ) {}

  static async open(db: Database): Promise<StreamCounter> {
    const reserved = (await db.get<number>('meta_value', RESERVED_KEY)) ?? 0;
    // Everything below `reserved` may have been handed out before a crash: start above it.
    const counter = new StreamCounter(db, reserved, reserved);
    await counter.reserve();
    return counter;
  }

  /** The latest position handed out. */
  get position(): number {
    return this.current;
  }

  /** Take the next position. Synchronous; reserves a new block in the background when needed. */
  next(): number {
    this.current += 1;
    if (this.current >= this.reserved - BLOCK / 2 && !this.reserving) void this.reserve();
    if (this.current >= this.reserved) throw new Error('stream counter ran past its durable reservation');
    return this.current;
  }

  private reserving: Promise<void> | undefined;

  private async reserve(): Promise<void> {
    const target = this.current + BLOCK;
    this.reserving = this.db.write([this.db.put('meta_value', RESERVED_KEY, target)]);
    await this.reserving;
    this.reserved = target;
    this.reserving = undefined;
  }
}
