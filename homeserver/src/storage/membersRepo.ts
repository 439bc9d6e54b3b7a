// Membership indexes, kept in step in both directions: room → users and user → rooms.
import type { MemberRecord } from '../rooms/types.js';
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, prefixRange, readU64 } from './keys.js';
import { Lru } from './lru.js';
import { RoomMembersCache } from './roomMembersCache.js';

type UserRooms = ReadonlyArray<{ shortRoom: number; member: MemberRecord }>;
/** Users whose room list is kept in memory (a few hundred bytes per room each); above the users syncing at once. */
const USER_ROOMS_CACHE = 50_000;

export class MembersRepo {
  /**
   * user → rooms, read by every /sync (and presence, device lists) of every device:
   * a long-poll woken by each message would otherwise rescan the index each time.
   * Dropped for a user when a membership of theirs is staged and again once the batch
   * is durable; a read that overlapped a write (the epoch moved) is not remembered.
   */
  private readonly byUser = new Lru<string, UserRooms>(USER_ROOMS_CACHE);
  private epoch = 0;
  /** room → its memberships, updated in place by put() once durable. */
  private readonly byRoom = new RoomMembersCache((shortRoom) => this.readRoom(shortRoom));

  constructor(private readonly db: Database) {}

  /** Forget cached room lists (after writes made outside put(), e.g. a purge of `shortRoom`). */
  forget(userIds: Iterable<string>, shortRoom?: number): void {
    for (const u of userIds) this.byUser.delete(u);
    this.epoch++;
    if (shortRoom !== undefined) this.byRoom.forget(shortRoom);
  }

  get(shortRoom: number, userId: string): Promise<MemberRecord | undefined> {
    // The user's cached room list is the whole of their userroom_member rows, written with these.
    const cached = this.byUser.get(userId);
    if (cached) return Promise.resolve(cached.find((r) => r.shortRoom === shortRoom)?.member);
    const inRoom = this.byRoom.peek(shortRoom, userId);
    if (inRoom) return Promise.resolve(inRoom.member);
    return this.db.get<MemberRecord>('roomuser_member', key(shortRoom, userId));
  }

  async ofRoom(shortRoom: number): Promise<Array<{ userId: string; member: MemberRecord }>> {
    return (await this.byRoom.room(shortRoom)).list();
  }

  /** How many users are joined to the room (current state). */
  async joinedCount(shortRoom: number): Promise<number> {
    return (await this.byRoom.room(shortRoom)).joined;
  }

  /** The servers of the room's joined users (ours included). */
  async joinedServers(shortRoom: number): Promise<readonly string[]> {
    return (await this.byRoom.room(shortRoom)).joinedServers();
  }

  private async readRoom(shortRoom: number): Promise<Array<{ userId: string; member: MemberRecord }>> {
    const rows = await this.db.range<MemberRecord>('roomuser_member', prefixRange(key(shortRoom)));
    // Key: 8-byte short room, then the user ID and its 0xFF terminator.
    return rows.map(([k, member]) => ({ userId: k.toString('utf8', 8, k.length - 1), member }));
  }

  /** The user's memberships if they are in memory (the array ofUser would return). */
  cachedOfUser(userId: string): UserRooms | undefined {
    return this.byUser.get(userId);
  }

  /**
   * The user's memberships. While cached, every call returns the same (frozen) array, so
   * callers can memoise what they derive from it by identity (RoomReader.roomsOfUser).
   */
  async ofUser(userId: string): Promise<UserRooms> {
    const cached = this.byUser.get(userId);
    if (cached) return cached;
    const epoch = this.epoch;
    const prefix = key(userId);
    const rows = await this.db.range<MemberRecord>('userroom_member', prefixRange(prefix));
    const out: UserRooms = Object.freeze(rows.map(([k, member]) => ({ shortRoom: readU64(k, prefix.length), member })));
    if (epoch === this.epoch) this.byUser.set(userId, out);
    return out;
  }

  put(batch: Batch, shortRoom: number, userId: string, member: MemberRecord): void {
    this.forget([userId]);
    batch.afterCommit(() => {
      this.forget([userId]);
      this.byRoom.committed(shortRoom, userId, member);
    });
    batch.add(
      this.db.put('roomuser_member', key(shortRoom, userId), member),
      this.db.put('userroom_member', key(userId, shortRoom), member),
    );
  }

  /** The user has no membership in the room after all (an event that gave them one was rejected later). */
  remove(batch: Batch, shortRoom: number, userId: string): void {
    this.forget([userId]);
    batch.afterCommit(() => this.forget([userId], shortRoom));
    batch.add(this.db.del('roomuser_member', key(shortRoom, userId)), this.db.del('userroom_member', key(userId, shortRoom)));
  }
}
