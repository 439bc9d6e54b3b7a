// Rooms' member lists kept in memory and updated in place as memberships are written, with
// what is derived from them (joined count, servers with a joined member). Every event of a
// big room needs these (push recipients and room_member_count, federation destinations):
// reading the whole roomuser_member range per event made joins into a room of N members
// cost O(N) reads each. Updated after each batch is durable, like a read of the index;
// a load that overlapped a write replays the writes committed since it began, so it
// never keeps an older membership. Bounded by the total number of memberships held.
import { serverNameOf } from '@parley/federation/core/ids';
import type { MemberRecord } from '../rooms/types.js';

export type RoomMemberRow = { userId: string; member: MemberRecord };

/** Memberships held in all (a few hundred bytes each). */
const MAX_MEMBERSHIPS = 200_000;

/** One room's memberships. */
export class RoomMemberSet {
  private readonly byUser = new Map<string, MemberRecord>();
  private joinedCount = 0;
  /** Joined members per server. */
  private readonly perServer = new Map<string, number>();
  /** Built on demand, dropped by a change. */
  private rows: readonly RoomMemberRow[] | undefined;
  private servers: readonly string[] | undefined;

  constructor(rows: Iterable<RoomMemberRow>) {
    for (const r of rows) this.apply(r.userId, r.member);
  }

  get size(): number {
    return this.byUser.size;
  }

  get joined(): number {
    return this.joinedCount;
  }

  get(userId: string): MemberRecord | undefined {
    return this.byUser.get(userId);
  }

  /** Every membership (a fresh array: callers may keep or change it). */
  list(): RoomMemberRow[] {
    this.rows ??= [...this.byUser].map(([userId, member]) => ({ userId, member }));
    return this.rows.slice();
  }

  /** Servers with at least one joined member (ours included). */
  joinedServers(): readonly string[] {
    this.servers ??= [...this.perServer.keys()];
    return this.servers;
  }

  apply(userId: string, member: MemberRecord): void {
    const before = this.byUser.get(userId);
    if (before?.membership === 'join') this.countJoin(userId, -1);
    this.byUser.set(userId, member);
    if (member.membership === 'join') this.countJoin(userId, 1);
    this.rows = undefined;
  }

  private countJoin(userId: string, delta: 1 | -1): void {
    this.joinedCount += delta;
    const server = serverNameOf(userId);
    if (server === undefined) return;
    const n = (this.perServer.get(server) ?? 0) + delta;
    if (n > 0) this.perServer.set(server, n);
    else this.perServer.delete(server);
    if ((n === 0 && delta < 0) || (n === 1 && delta > 0)) this.servers = undefined;
  }
}

interface Loading {
  promise: Promise<RoomMemberSet>;
  /** Writes committed while the load was reading, replayed on its result in order. */
  committed: RoomMemberRow[];
  /** The room was forgotten meanwhile: do not keep the result. */
  dropped: boolean;
}

export class RoomMembersCache {
  /** Least recently used first. */
  private readonly rooms = new Map<number, RoomMemberSet>();
  /** The size each held room was counted with, and their sum. */
  private readonly sizes = new Map<number, number>();
  private held = 0;
  private readonly loading = new Map<number, Loading>();

  constructor(private readonly read: (shortRoom: number) => Promise<RoomMemberRow[]>) {}

  /** The room's memberships, read once and then kept up to date. */
  room(shortRoom: number): Promise<RoomMemberSet> {
    const cached = this.rooms.get(shortRoom);
    if (cached) {
      this.rooms.delete(shortRoom);
      this.rooms.set(shortRoom, cached);
      return Promise.resolve(cached);
    }
    const inFlight = this.loading.get(shortRoom);
    if (inFlight) return inFlight.promise;
    const load: Loading = { promise: undefined as never, committed: [], dropped: false };
    load.promise = this.read(shortRoom)
      .then((rows) => {
        const set = new RoomMemberSet(rows);
        for (const c of load.committed) set.apply(c.userId, c.member);
        if (!load.dropped) this.keep(shortRoom, set);
        return set;
      })
      .finally(() => {
        if (this.loading.get(shortRoom) === load) this.loading.delete(shortRoom);
      });
    this.loading.set(shortRoom, load);
    return load.promise;
  }

  /** A cached membership, if the room is held (no read). */
  peek(shortRoom: number, userId: string): { member: MemberRecord | undefined } | undefined {
    const set = this.rooms.get(shortRoom);
    return set ? { member: set.get(userId) } : undefined;
  }

  /** A membership write is durable. */
  committed(shortRoom: number, userId: string, member: MemberRecord): void {
    this.loading.get(shortRoom)?.committed.push({ userId, member });
    const set = this.rooms.get(shortRoom);
    if (!set) return;
    set.apply(userId, member);
    if (this.sizeChanged(shortRoom, set)) this.evict();
  }

  /** Memberships were changed without committed() (a purge): read them again. */
  forget(shortRoom: number): void {
    const set = this.rooms.get(shortRoom);
    if (set) {
      this.rooms.delete(shortRoom);
      this.held -= this.sizes.get(shortRoom) ?? set.size;
      this.sizes.delete(shortRoom);
    }
    const load = this.loading.get(shortRoom);
    if (load) {
      load.dropped = true;
      this.loading.delete(shortRoom);
    }
  }

  private keep(shortRoom: number, set: RoomMemberSet): void {
    if (set.size > MAX_MEMBERSHIPS) return;
    this.rooms.set(shortRoom, set);
    this.sizes.set(shortRoom, set.size);
    this.held += set.size;
    this.evict();
  }

  private sizeChanged(shortRoom: number, set: RoomMemberSet): boolean {
    const before = this.sizes.get(shortRoom) ?? 0;
    if (before === set.size) return false;
    this.sizes.set(shortRoom, set.size);
    this.held += set.size - before;
    return true;
  }

  private evict(): void {
    for (const [shortRoom] of this.rooms) {
      if (this.held <= MAX_MEMBERSHIPS) return;
      this.forget(shortRoom);
    }
  }
}
