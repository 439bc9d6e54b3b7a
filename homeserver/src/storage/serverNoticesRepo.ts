// Which room is each local user's server notices room. Layout: schema.ts userid_servernoticeroom.
import type { Database } from './db.js';
import { strKey } from './db.js';

export interface NoticeRoomRecord {
  roomId: string;
  /** When the room was made (ms). */
  ts: number;
}

export class ServerNoticesRepo {
  constructor(private readonly db: Database) {}

  get(userId: string): Promise<NoticeRoomRecord | undefined> {
    return this.db.get<NoticeRoomRecord>('userid_servernoticeroom', strKey(userId));
  }

  async set(userId: string, record: NoticeRoomRecord): Promise<void> {
    await this.db.write([this.db.put('userid_servernoticeroom', strKey(userId), record)]);
  }

  /** Whether `roomId` is (or was) some user's notices room. */
  async isNoticeRoomOf(userId: string, roomId: string): Promise<boolean> {
    return (await this.get(userId))?.roomId === roomId;
  }
}
