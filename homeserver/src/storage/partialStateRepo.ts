// Rooms joined with partial state (MSC3706 "faster joins"): the send_join answer left out
// most member events, and the full state at our join is still being fetched in the
// background. The marker is written before the join is stored and marked completed only
// once the full state is, so a restart resumes every unfinished resync.
// Layout: schema.ts roomid_partialstate.
import type { Database } from './db.js';

export interface PartialStateRecord {
  /** Our join event: the full state is fetched as the state before it. */
  joinEventId: string;
  /** servers_in_room of the send_join answer (the resident that answered first). */
  serversInRoom: string[];
  roomVersion: string;
  ts: number;
  /**
   * Set when the full state arrived: the stream position taken then. The record stays, so
   * /sync sends the room as newly joined to clients whose token predates it (as Synapse).
   */
  completedAt?: number;
}

export class PartialStateRepo {
  constructor(private readonly db: Database) {}

  async all(): Promise<Map<string, PartialStateRecord>> {
    const rows = await this.db.range<PartialStateRecord>('roomid_partialstate', {});
    return new Map(rows.map(([k, v]) => [k.toString('utf8'), v]));
  }

  async put(roomId: string, rec: PartialStateRecord): Promise<void> {
    await this.db.write([this.db.put('roomid_partialstate', Buffer.from(roomId, 'utf8'), rec)]);
  }

  async delete(roomId: string): Promise<void> {
    await this.db.write([this.db.del('roomid_partialstate', Buffer.from(roomId, 'utf8'))]);
  }
}
