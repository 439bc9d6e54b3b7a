// The rooms section of woken /syncs, built once for the many that get the same one. One
// message in a large room wakes every member's long-poll at once, and their rooms sections
// differ only in the unread counts. A woken sync is *plain* when, after its token:
//  - nothing was announced for its user, and nothing but room events for its rooms
//    (SyncNotifier.quiet): no membership, account data, receipt, typing or presence change;
//  - the new events are in one of its rooms only, and none is a state event (no summary,
//    member or device-list consequences);
//  - its user ignores nobody (ignored users' events and aggregations are hidden per user),
//    and no new event was sent from its device (only that device gets `transaction_id`).
// A plain user was joined to the room before the token and still is, so history visibility
// lets them see every new event. Plain syncs of one token, position and filter then get the
// same room entry apart from their counts: the first builds in full, and, if its entry has
// nothing personal in it, the others reuse it with their own counts — for SHARE_MS at most,
// so that `unsigned.age` stays close to the truth. Everything else of the answer (account
// data, to-device, device lists, presence, key counts) is built per sync as before; an
// answer equal to an earlier one of its group is sent as that one's JSON text.
import type { StoredEvent } from '../rooms/types.js';
import type { CompiledFilter } from './filterMatch.js';
import type { Clock, UnreadCounter, Viewer } from './ports.js';
import type { RoomsSection } from './roomsSync.js';
import { JsonText } from '../http/jsonText.js';
import { sameJson } from '../util/sameJson.js';

/** How long one built room entry is reused (its events' `unsigned.age` is that much behind at most). */
export const SHARE_MS = 50;
/** Groups remembered: the syncs one change wakes share a token, position and (mostly) filter. */
const GROUPS = 16;

export interface SharedAnswersDeps {
  /** RoomsSync.newEvents: the window's events by room, read once for the syncs woken together. */
  newEvents(since: number, upTo: number): Promise<Map<string, StoredEvent[]> | undefined>;
  /** RoomsSync.readNewEvents: the same once read, without waiting (absent: `roomsNow` answers nothing). */
  readNewEvents?(since: number, upTo: number): Map<string, StoredEvent[]> | undefined;
  unread: UnreadCounter;
  /** messaging/ignoredUsers.ts; absent: nobody's events are hidden by an ignore list. */
  ignored?: { peek(userId: string): ReadonlySet<string> | undefined };
  now: Clock;
  /** See SHARE_MS (tests raise it: their requests may be further apart on a busy machine). */
  shareMs?: number;
}

/** A sync released by the notifier, about to answer (since, upTo]. */
export interface WokenSync {
  viewer: Viewer;
  since: number;
  upTo: number;
  filter: CompiledFilter;
  /** The rooms it waited on: the user's joined rooms the filter lets through. */
  roomIds: string[];
  /** SyncNotifier.quiet for the user and `roomIds` since its token. */
  quiet: boolean;
  /** Room account data of the window, by room: a plain sync has none. */
  roomAccountData: ReadonlyMap<string, unknown>;
}

export interface BuiltRooms {
  rooms: RoomsSection;
  joinedRoomIds: string[];
  /** Set when the section is a group's: the whole answer's text may then be too (see `text`). */
  shared?: { group: Group; counts: object };
}

interface Group {
  since: number;
  upTo: number;
  roomId: string;
  filter: CompiledFilter;
  at: number;
  /** The reference's room entry without its counts, or undefined when it holds something personal. */
  entry: Promise<Record<string, unknown> | undefined>;
  /** The entry once `entry` resolved to one (what `roomsNow` reuses). */
  built?: Record<string, unknown>;
  /** Rooms sections made lately, newest last: members with equal counts get the same one. */
  sections: Array<{ counts: object; rooms: RoomsSection }>;
  /** Answers made lately, newest last: the next whose other parts are equal reuses the text. */
  texts: Array<{ response: Record<string, unknown>; counts: object; text: JsonText }>;
}

/** Sections and texts kept per group: members' answers differ only in their counts and extensions' fields. */
const KEPT = 8;

/** A woken sync's turn to build (see `turn`): wait for another's build, or build and then say so. */
export type BuildTurn = { wait: Promise<void>; done?: undefined } | { wait?: undefined; done: () => void };

export class SharedAnswers {
  /** Newest last. */
  private readonly groups: Group[] = [];
  private reused = 0;
  private reusedAtOnce = 0;
  /** Windows ("since:upTo") whose first woken sync is building: by filter, settled once it has built (see `turn`). */
  private readonly firsts = new Map<string, Map<CompiledFilter, Promise<void>>>();

  constructor(private readonly deps: SharedAnswersDeps) {}

  /** Answers made from another sync's room entry so far (tests). */
  get sharedCount(): number {
    return this.reused;
  }

  /** Of those, the ones made by `roomsNow` (tests). */
  get sharedAtOnceCount(): number {
    return this.reusedAtOnce;
  }

  /** The sync's rooms section: from `build`, or from a plain sync's entry built moments ago. */
  async rooms(s: WokenSync, build: () => Promise<BuiltRooms>): Promise<BuiltRooms> {
    const roomId = await this.plainRoom(s);
    if (roomId === undefined) return build();
    const now = this.deps.now();
    const group = this.groupOf(s, roomId, now);
    if (group) {
      const entry = await group.entry;
      if (entry) return this.withCounts(s, entry, group);
      return build();
    }
    let settle!: (entry: Record<string, unknown> | undefined) => void;
    const entry = new Promise<Record<string, unknown> | undefined>((resolve) => (settle = resolve));
    const created: Group = { since: s.since, upTo: s.upTo, roomId, filter: s.filter, at: now, entry, sections: [], texts: [] };
    this.groups.push(created);
    if (this.groups.length > GROUPS) this.groups.shift();
    try {
      const built = await build();
      created.built = impersonal(built.rooms, roomId);
      settle(created.built);
      return built;
    } catch (err) {
      settle(undefined);
      throw err;
    }
  }

  /**
   * The sync's rooms section without waiting, when it is plain, its group's entry is built and
   * its counts are in memory (most of the syncs one message wakes); otherwise undefined, and
   * `rooms` answers. Spares each such answer the chain of awaits that `rooms` takes.
   */
  roomsNow(s: WokenSync): BuiltRooms | undefined {
    if (!this.mayBePlain(s)) return undefined;
    const window = this.deps.readNewEvents?.(s.since, s.upTo);
    const roomId = window && this.roomOf(s, window);
    if (roomId === undefined) return undefined;
    const group = this.groupOf(s, roomId, this.deps.now());
    if (!group?.built) return undefined;
    const counts = this.deps.unread.forSyncNow?.(s.viewer.userId, roomId, s.upTo, s.filter.room.timeline.unreadThreadNotifications);
    if (!counts) return undefined;
    this.reusedAtOnce++;
    return this.section(s, group.built, group, counts);
  }

  /**
   * The JSON of an answer whose rooms section came from a group: the text of an earlier answer
   * of the group when everything but that section is equal (next_batch, account data, the
   * extensions' fields), and the counts are equal too.
   */
  text(shared: NonNullable<BuiltRooms['shared']>, response: Record<string, unknown>): JsonText {
    const texts = shared.group.texts;
    for (let i = texts.length - 1; i >= 0; i--) {
      const t = texts[i];
      if (sameJson(t.counts, shared.counts) && sameJson(t.response, response, 'rooms')) return t.text;
    }
    const text = new JsonText(JSON.stringify(response));
    texts.push({ response, counts: shared.counts, text });
    if (texts.length > KEPT) texts.shift();
    return text;
  }

  /** The live group of the sync's token, position, room and filter (newest first: usually the last). */
  private groupOf(s: WokenSync, roomId: string, now: number): Group | undefined {
    const maxAge = this.deps.shareMs ?? SHARE_MS;
    for (let i = this.groups.length - 1; i >= 0; i--) {
      const g = this.groups[i];
      if (g.since === s.since && g.upTo === s.upTo && g.roomId === roomId && g.filter === s.filter) return now - g.at <= maxAge ? g : undefined;
    }
    return undefined;
  }

  /** The room whose new events a plain sync gets, or undefined when the sync is not plain. */
  private async plainRoom(s: WokenSync): Promise<string | undefined> {
    if (!this.mayBePlain(s)) return undefined;
    const window = await this.deps.newEvents(s.since, s.upTo);
    return window && this.roomOf(s, window);
  }

  /**
   * For a woken sync `roomsNow` could not answer: when another sync of the same window and
   * filter is building its answer, `wait` settles once it has — its group's entry is then
   * built and the window read, so `roomsNow` may answer. Otherwise this sync is the window's
   * first: it builds, then calls `done`. Syncs woken together (one release slice, or re-polls
   * that arrive in one turn) would otherwise each take the whole chain of awaits of `rooms`
   * before the first had made the entry they share.
   */
  turn(since: number, upTo: number, filter: CompiledFilter): BuildTurn {
    const key = `${since}:${upTo}`;
    let byFilter = this.firsts.get(key);
    const building = byFilter?.get(filter);
    if (building) return { wait: building };
    let settle!: () => void;
    if (!byFilter) this.firsts.set(key, (byFilter = new Map()));
    byFilter.set(filter, new Promise<void>((resolve) => (settle = resolve)));
    return {
      done: () => {
        settle();
        byFilter.delete(filter);
        if (byFilter.size === 0) this.firsts.delete(key);
      },
    };
  }

  /** What a plain sync is, apart from its window's events (see the top of this file). */
  private mayBePlain(s: WokenSync): boolean {
    if (s.roomAccountData.size > 0 || !s.quiet) return false;
    return !this.deps.ignored || this.deps.ignored.peek(s.viewer.userId)?.size === 0;
  }

  /** The one room of the window's events a plain sync gets, or undefined when they do not make it plain. */
  private roomOf(s: WokenSync, window: ReadonlyMap<string, StoredEvent[]>): string | undefined {
    let roomId: string | undefined;
    for (const r of window.keys()) {
      if (!s.roomIds.includes(r)) continue;
      if (roomId !== undefined) return undefined;
      roomId = r;
    }
    if (roomId === undefined) return undefined;
    for (const e of window.get(roomId)!) {
      if (typeof e.pdu.state_key === 'string') return undefined;
      if (e.txn && e.txn.deviceId === s.viewer.deviceId && e.pdu.sender === s.viewer.userId) return undefined;
    }
    return roomId;
  }

  private async withCounts(s: WokenSync, entry: Record<string, unknown>, group: Group): Promise<BuiltRooms> {
    const counts = await this.deps.unread.forSync(s.viewer.userId, group.roomId, s.upTo, s.filter.room.timeline.unreadThreadNotifications);
    return this.section(s, entry, group, counts);
  }

  /** The group's rooms section with the sync's counts. */
  private section(s: WokenSync, entry: Record<string, unknown>, group: Group, counts: object): BuiltRooms {
    this.reused++;
    // Sections are only read (serialised), so members with equal counts share one.
    let rooms = group.sections.find((x) => sameJson(x.counts, counts))?.rooms;
    if (!rooms) {
      rooms = { join: { [group.roomId]: { ...entry, ...counts } }, invite: {}, leave: {}, knock: {} };
      group.sections.push({ counts, rooms });
      if (group.sections.length > KEPT) group.sections.shift();
    }
    return { rooms, joinedRoomIds: s.roomIds, shared: { group, counts } };
  }
}

/**
 * The plain reference's entry for `roomId` without its counts, if the section is that one
 * entry and nothing in it is the reference's own; otherwise undefined (nobody reuses it).
 */
function impersonal(rooms: RoomsSection, roomId: string): Record<string, unknown> | undefined {
  const joined = Object.keys(rooms.join);
  if (joined.length !== 1 || joined[0] !== roomId) return undefined;
  if (Object.keys(rooms.invite).length + Object.keys(rooms.leave).length + Object.keys(rooms.knock).length > 0) return undefined;
  const { unread_notifications: _n, unread_thread_notifications: _t, ...entry } = rooms.join[roomId] as Record<string, unknown> & {
    timeline: { events: Array<{ unsigned?: Record<string, unknown> }> };
    state: { events: unknown[] };
    ephemeral: { events: unknown[] };
    account_data: { events: unknown[] };
  };
  if ('summary' in entry || entry.state.events.length + entry.ephemeral.events.length + entry.account_data.events.length > 0) return undefined;
  const personal = (e: { unsigned?: Record<string, unknown> }) => e.unsigned !== undefined && ('transaction_id' in e.unsigned || 'm.relations' in e.unsigned);
  if (entry.timeline.events.length === 0 || entry.timeline.events.some(personal)) return undefined;
  return entry;
}
