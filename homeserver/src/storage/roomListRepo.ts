// Every room this server knows, for indexes rebuilt at start-up (user directory).
// Reads the room ID → short ID dictionary (schema.ts roomid_short), whose keys are the room IDs.
import type { Database } from './db.js';

export class RoomListRepo {
  constructor(private readonly db: Database) {}

  async allRoomIds(): Promise<string[]> {
    const rows = await this.db.range<number>('roomid_short', {});
    return rows.map(([k]) => k.toString('utf8'));
  }
}
