// RoomReader over the room storage: what sync, pagination and membership queries read.
import { stateKeyOf, type StateKey } from '@parley/federation/core/types';
import type { EventRecord } from '../storage/eventsRepo.js';
import { Lru } from '../storage/lru.js';
import type { RoomStorage } from '../storage/roomStorage.js';
import type { ShortState } from '../storage/stateRepo.js';
import type { MemberRecord, RoomReader, StoredEvent } from './types.js';

type UserRoomList = ReadonlyArray<{ roomId: string; member: MemberRecord }>;

export class StoredRoomReader implements RoomReader {
  /** Resolved state groups in long form (state key → event ID). */
  private readonly longGroups = new Lru<number, ReadonlyMap<StateKey, string>>(64);

  /**
   * roomsOfUser's answer per membership list, as a settled promise: a sync asks three or four
   * times (rooms, device lists, presence, the long-poll's keys), and MembersRepo hands out the
   * same list until the user's memberships change.
   */
  private readonly userRooms = new WeakMap<object, Promise<UserRoomList>>();

  constructor(private readonly s: RoomStorage) {}

  async roomVersion(roomId: string): Promise<string | undefined> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? undefined : (await this.s.rooms.get(short))?.version;
  }

  /** The room's forward extremities (events with no known successor), for federation. */
  async forwardExtremities(roomId: string): Promise<Array<{ eventId: string; depth: number }>> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? [] : ((await this.s.rooms.get(short))?.extremities ?? []);
  }

  getEvent(eventId: string): Promise<StoredEvent | undefined> {
    return this.s.events.byId(eventId);
  }

  getEvents(eventIds: string[]): Promise<Array<StoredEvent | undefined>> {
    return this.s.events.byIds(eventIds);
  }

  async timeline(roomId: string, opts: { after?: number; upTo?: number; dir: 'f' | 'b'; limit: number }): Promise<StoredEvent[]> {
    const short = await this.s.ids.room(roomId);
    if (short === undefined) return [];
    return present(await this.s.events.byShorts(await this.s.timeline.roomRange(short, opts)));
  }

  async currentState(roomId: string): Promise<Map<StateKey, string>> {
    const group = await this.currentGroup(roomId);
    return group === undefined ? new Map() : new Map(await this.longState(group));
  }

  async currentStateEvent(roomId: string, type: string, stateKey: string): Promise<StoredEvent | undefined> {
    const [shortRoom, shortKey] = await Promise.all([this.s.ids.room(roomId), this.s.ids.stateKey(stateKeyOf(type, stateKey))]);
    if (shortRoom === undefined || shortKey === undefined) return undefined;
    const e = await this.s.state.currentEntry(shortRoom, shortKey);
    return e === undefined ? undefined : this.s.events.byShort(e);
  }

  async stateAfter(eventId: string): Promise<Map<StateKey, string> | undefined> {
    const ev = await this.s.events.byId(eventId);
    return ev ? new Map(await this.longState(ev.groupAfter)) : undefined;
  }

  async stateBefore(eventId: string): Promise<Map<StateKey, string> | undefined> {
    const ev = await this.s.events.byId(eventId);
    return ev ? new Map(await this.longState(ev.groupBefore)) : undefined;
  }

  async stateEntriesAt(eventIds: string[], keys: StateKey[], at: 'before' | 'after'): Promise<Array<Map<StateKey, string> | undefined>> {
    const [events, shortKeys] = await Promise.all([this.s.events.byIds(eventIds), this.s.ids.stateKeys.lookupMany(keys)]);
    return Promise.all(
      events.map(async (ev) => {
        if (!ev) return undefined;
        const state = await this.s.state.resolve(at === 'before' ? ev.groupBefore : ev.groupAfter);
        const hits: Array<[StateKey, number]> = [];
        keys.forEach((k, i) => {
          const sk = shortKeys[i];
          const e = sk === undefined ? undefined : state.get(sk);
          if (e !== undefined) hits.push([k, e]);
        });
        const ids = await this.s.ids.eventIdsOf(hits.map(([, e]) => e));
        return new Map(hits.map(([k], i) => [k, ids[i]]));
      }),
    );
  }

  async stateAtStream(roomId: string, at: number): Promise<Map<StateKey, string>> {
    const short = await this.s.ids.room(roomId);
    if (short === undefined) return new Map();
    const last = await this.s.timeline.lastAtOrBefore(short, at);
    const ev = last && (await this.s.events.byShort(last.shortEvent));
    if (ev) return new Map(await this.longState(ev.groupAfter));
    // Before the room's first event here: the state before that event. For a room joined over
    // federation that is the state the resident gave with our join (send_join), not nothing.
    const [firstShort] = await this.s.timeline.roomRange(short, { after: at, dir: 'f', limit: 1 });
    const first = firstShort === undefined ? undefined : await this.s.events.byShort(firstShort);
    return first ? new Map(await this.longState(first.groupBefore)) : new Map();
  }

  async membership(roomId: string, userId: string): Promise<MemberRecord | undefined> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? undefined : this.s.members.get(short, userId);
  }

  roomsOfUser(userId: string): Promise<UserRoomList> {
    const cached = this.s.members.cachedOfUser(userId);
    return (cached && this.userRooms.get(cached)) ?? this.readRoomsOfUser(userId);
  }

  private async readRoomsOfUser(userId: string): Promise<UserRoomList> {
    const rows = await this.s.members.ofUser(userId);
    const known = this.userRooms.get(rows);
    if (known) return known;
    const ids = await this.s.ids.rooms.reverse(rows.map((r) => r.shortRoom));
    const out = Object.freeze(rows.flatMap((r, i) => (ids[i] === undefined ? [] : [{ roomId: ids[i]!, member: r.member }])));
    if (out.length === rows.length) this.userRooms.set(rows, Promise.resolve(out));
    return out;
  }

  async members(roomId: string): Promise<Array<{ userId: string; member: MemberRecord }>> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? [] : this.s.members.ofRoom(short);
  }

  async joinedCount(roomId: string): Promise<number> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? 0 : this.s.members.joinedCount(short);
  }

  async joinedServers(roomId: string): Promise<readonly string[]> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? [] : this.s.members.joinedServers(short);
  }

  async eventsSince(after: number, upTo: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.s.timeline.globalRange(after, upTo, limit);
    return present(await this.s.events.byShorts(rows.map((r) => r.shortEvent)));
  }

  private async currentGroup(roomId: string): Promise<number | undefined> {
    const short = await this.s.ids.room(roomId);
    return short === undefined ? undefined : (await this.s.rooms.get(short))?.stateGroup;
  }

  /** Drop cached state groups (they were filled in after a partial-state join: StateRepo.fillSnapshots). */
  forgetStateGroups(): void {
    this.longGroups.clear();
  }

  private async longState(group: number): Promise<ReadonlyMap<StateKey, string>> {
    const cached = this.longGroups.get(group);
    if (cached) return cached;
    const long = await toLong(this.s, await this.s.state.resolve(group));
    this.longGroups.set(group, long);
    return long;
  }
}

async function toLong(s: RoomStorage, state: ShortState): Promise<Map<StateKey, string>> {
  const entries = [...state];
  const [keys, ids] = await Promise.all([s.ids.stateKeysOf(entries.map(([k]) => k)), s.ids.eventIdsOf(entries.map(([, e]) => e))]);
  return new Map(keys.map((k, i) => [k, ids[i]]));
}

function present(events: Array<EventRecord | undefined>): EventRecord[] {
  return events.filter((e): e is EventRecord => e !== undefined);
}
