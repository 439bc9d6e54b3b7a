// Membership indexes, kept in step in both directions: room → users and user → rooms.
import type { MemberRecord } from '../rooms/types.js';
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, prefixRange, readU64 } from './keys.js';

export class MembersRepo {
  constructor(private readonly db: Database) {}

  get(shortRoom: number, userId: string): Promise<MemberRecord | undefined> {
    return this.db.get<MemberRecord>('roomuser_member', key(shortRoom, userId));
  }

  async ofRoom(shortRoom: number): Promise<Array<{ userId: string; member: MemberRecord }>> {
    const rows = await this.db.range<MemberRecord>('roomuser_member', prefixRange(key(shortRoom)));
    // Key: 8-byte short room, then the user ID and its 0xFF terminator.
    return rows.map(([k, member]) => ({ userId: k.toString('utf8', 8, k.length - 1), member }));
  }

  async ofUser(userId: string): Promise<Array<{ shortRoom: number; member: MemberRecord }>> {
    const prefix = key(userId);
    const rows = await this.db.range<MemberRecord>('userroom_member', prefixRange(prefix));
    return rows.map(([k, member]) => ({ shortRoom: readU64(k, prefix.length), member }));
  }

  put(batch: Batch, shortRoom: number, userId: string, member: MemberRecord): void {
    batch.add(
      this.db.put('roomuser_member', key(shortRoom, userId), member),
      this.db.put('userroom_member', key(userId, shortRoom), member),
    );
  }
}
