// One record per room: its version and the tip of its event graph.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { readU64, u64 } from './keys.js';
import { Lru } from './lru.js';

export interface RoomRecord {
  roomId: string;
  version: string;
  createEventId: string;
  /** The state group of the room's current state. */
  stateGroup: number;
  /** Events with no known successor: the prev_events of the next event. */
  extremities: Array<{ eventId: string; depth: number }>;
  /** Stream position of the room's latest event. */
  lastStream: number;
}

export class RoomsRepo {
  private readonly cache = new Lru<number, RoomRecord>(10_000);

  constructor(private readonly db: Database) {}

  async get(shortRoom: number): Promise<RoomRecord | undefined> {
    const cached = this.cache.get(shortRoom);
    if (cached) return cached;
    const rec = await this.db.get<RoomRecord>('shortroom_room', u64(shortRoom));
    if (rec) this.cache.set(shortRoom, rec);
    return rec;
  }

  /** Every room record (admin room list). */
  async all(): Promise<Array<{ shortRoom: number; record: RoomRecord }>> {
    const rows = await this.db.range<RoomRecord>('shortroom_room', {});
    return rows.map(([k, record]) => ({ shortRoom: readU64(k), record }));
  }

  /** Drop the cached record (the room was purged). */
  forget(shortRoom: number): void {
    this.cache.delete(shortRoom);
  }

  put(batch: Batch, shortRoom: number, rec: RoomRecord): void {
    batch.add(this.db.put('shortroom_room', u64(shortRoom), rec));
    batch.afterCommit(() => this.cache.set(shortRoom, rec));
  }
}
