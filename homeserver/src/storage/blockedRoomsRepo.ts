// Rooms an admin blocked (delete room `block: true`): local users may not join them.
// Layout: schema.ts roomid_blocked.
import type { Database } from './db.js';
import { strKey } from './db.js';

export interface BlockRecord {
  by: string;
  ts: number;
}

export class BlockedRoomsRepo {
  constructor(private readonly db: Database) {}

  get(roomId: string): Promise<BlockRecord | undefined> {
    return this.db.get<BlockRecord>('roomid_blocked', strKey(roomId));
  }

  async isBlocked(roomId: string): Promise<boolean> {
    return (await this.get(roomId)) !== undefined;
  }

  async set(roomId: string, block: BlockRecord | undefined): Promise<void> {
    await this.db.write([block ? this.db.put('roomid_blocked', strKey(roomId), block) : this.db.del('roomid_blocked', strKey(roomId))]);
  }
}
