// Rooms listed in the published room directory (GET /publicRooms reads them).
import type { Batch } from './batch.js';
import type { Database } from './db.js';

export class PublishedRoomsRepo {
  constructor(private readonly db: Database) {}

  async isPublished(roomId: string): Promise<boolean> {
    return (await this.db.get<true>('roomid_published', Buffer.from(roomId, 'utf8'))) === true;
  }

  async all(): Promise<string[]> {
    const rows = await this.db.range<true>('roomid_published', {});
    return rows.map(([k]) => k.toString('utf8'));
  }

  /** PUT /directory/list/room/{roomId}: publish or unpublish on its own. */
  async set(roomId: string, published: boolean): Promise<void> {
    const k = Buffer.from(roomId, 'utf8');
    await this.db.write([published ? this.db.put('roomid_published', k, true) : this.db.del('roomid_published', k)]);
  }

  stage(batch: Batch, roomId: string, published: boolean): void {
    const k = Buffer.from(roomId, 'utf8');
    batch.add(published ? this.db.put('roomid_published', k, true) : this.db.del('roomid_published', k));
  }
}
