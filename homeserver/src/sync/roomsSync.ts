// The `rooms` section of /sync: which rooms appear (join / invite / knock / leave) and
// what each carries. Spec: client-server-api/_index.md "Syncing"; sync.yaml.
//
// Incremental syncs find changed rooms from the global event stream (RoomReader.
// eventsSince over (since, upTo]) rather than probing every room; when that window is
// too large, each room is probed instead.
import { stateKeyOf, type StateKey } from '@parley/federation/core/types';
import type { MemberRecord, Membership, RoomReader, StoredEvent } from '../rooms/types.js';
import type { AccountDataEntry } from '../storage/accountDataRepo.js';
import type { CompiledFilter, EventMatcher, RoomEventMatcher } from './filterMatch.js';
import type { UnreadCounter, Viewer, VisibilityFilter } from './ports.js';
import type { ReceiptService } from './receipts.js';
import { preloadedSource, readerSource, scanTimeline } from './scan.js';
import type { EventSerializer } from './serialize.js';
import { lazyLoadMembers, stateDelta } from './stateDelta.js';
import { strippedStateFor } from './strippedState.js';
import { roomSummary } from './summary.js';
import { encodeToken } from './token.js';
import type { TypingService } from './typing.js';

export const DEFAULT_TIMELINE_LIMIT = 10;
/** Synapse's default filter_timeline_limit. */
export const MAX_TIMELINE_LIMIT = 100;
/** Above this many new events in the window, rooms are probed one by one. */
const WINDOW_CAP = 1000;
const ROOM_CONCURRENCY = 16;
/** Windows remembered: the syncs one change wakes all ask for the same (since, upTo]. */
const SHARED_WINDOWS = 8;

export interface RoomsSyncDeps {
  reader: RoomReader;
  visible: VisibilityFilter;
  serializer: EventSerializer;
  receipts: Pick<ReceiptService, 'forSync' | 'readUpTo'>;
  typing: Pick<TypingService, 'typing'>;
  unread: UnreadCounter;
  /** Above this many new events in the window, rooms are probed one by one (default WINDOW_CAP). */
  windowCap?: number;
  /** A room's account data up to a position: sent whole for a room newly joined (absent: only the window's changes). */
  roomAccountData?: (userId: string, roomId: string, upTo: number) => Promise<AccountDataEntry[]>;
  /** m.ignored_user_list (messaging/ignoredUsers.ts): invites from ignored users are not sent (ignore_users.md). */
  ignored?: { of(userId: string): Promise<ReadonlySet<string>> };
  /** Rooms joined with partial state (rooms/partialStateRooms.ts, MSC3706). */
  partialState?: { isPartial(roomId: string): boolean; completedAt(roomId: string): number | undefined };
}

/** One /sync computation: the window (since, upTo] seen by one device through one filter. */
export interface SyncWindow {
  viewer: Viewer;
  since: number | undefined;
  upTo: number;
  fullState: boolean;
  filter: CompiledFilter;
  now: number;
  /** Room account data in the window, by room ID. */
  roomAccountData: ReadonlyMap<string, AccountDataEntry[]>;
}

export interface RoomsSection {
  join: Record<string, Record<string, unknown>>;
  invite: Record<string, Record<string, unknown>>;
  leave: Record<string, Record<string, unknown>>;
  knock: Record<string, Record<string, unknown>>;
}

type Member = Pick<MemberRecord, 'membership' | 'eventId' | 'stream'> & { forgotten?: boolean };

/** A window's read, shared by the syncs woken together, and its events once read (undefined: too large). */
interface SharedWindow {
  read: Promise<Map<string, StoredEvent[]> | undefined>;
  events?: Map<string, StoredEvent[]>;
}

/** The rooms a long-poll waits on (joined, through the filter), and whether no joined room was left out. */
export interface WaitedRooms {
  roomIds: string[];
  all: boolean;
}

export class RoomsSync {
  /** Window reads by `since:upTo:cap`, shared by the syncs woken together (a fan-out reads the stream once). */
  private readonly windows = new Map<string, SharedWindow>();

  constructor(private readonly deps: RoomsSyncDeps) {}

  /** A stored event changed in place (a redaction): remembered windows may hold its old form. */
  forgetWindows(): void {
    this.windows.clear();
  }

  /** The rooms a long-poll listens to, as `build` lists them, from the user's memberships now. */
  async joinedRoomIds(viewer: Viewer, filter: CompiledFilter): Promise<WaitedRooms> {
    const roomIds: string[] = [];
    let joined = 0;
    for (const { roomId, member } of await this.deps.reader.roomsOfUser(viewer.userId)) {
      if (member.membership !== 'join') continue;
      joined++;
      if (!filter.room.matchesRoom(roomId)) continue;
      if (this.deps.partialState?.isPartial(roomId) && !filter.room.state.lazyLoadMembers) continue;
      roomIds.push(roomId);
    }
    return { roomIds, all: joined === roomIds.length };
  }

  /** `roomIds` as WaitedRooms: whether they are every room the user is joined to. */
  async waited(viewer: Viewer, roomIds: string[]): Promise<WaitedRooms> {
    let joined = 0;
    for (const { member } of await this.deps.reader.roomsOfUser(viewer.userId)) if (member.membership === 'join') joined++;
    return { roomIds, all: joined === roomIds.length };
  }

  /** The rooms section, and the rooms the user is joined to at `upTo` (what a long-poll listens to). */
  async build(w: SyncWindow): Promise<{ rooms: RoomsSection; joinedRoomIds: string[] }> {
    const { reader } = this.deps;
    const rooms: RoomsSection = { join: {}, invite: {}, leave: {}, knock: {} };
    const joinedRoomIds: string[] = [];
    // The ignore list filters every room's events and invites: read alongside the room list
    // and the window rather than after them, and in every build, so that a device's first
    // sync (built at once when it connects) loads it — not the first message it is woken for,
    // when a large room's members would all read theirs at once.
    const [userRooms, windowByRoom] = await Promise.all([reader.roomsOfUser(w.viewer.userId), this.windowEvents(w), this.deps.ignored?.of(w.viewer.userId)]);
    const memberships = userRooms.filter((r) => w.filter.room.matchesRoom(r.roomId));

    await forEachLimited(memberships, ROOM_CONCURRENCY, async ({ roomId, member }) => {
      const m = member.stream > w.upTo ? await this.memberAt(roomId, w.viewer.userId, w.upTo) : member;
      if (!m) return;
      const changedSinceToken = w.since === undefined || m.stream > w.since;
      switch (m.membership) {
        case 'join': {
          // Synapse (MSC3706): a room whose members are still being fetched is left out, unless
          // the filter lazy-loads members (the few the client needs are known).
          if (this.partialAt(roomId, w.upTo) && !w.filter.room.state.lazyLoadMembers) return;
          joinedRoomIds.push(roomId);
          const entry = await this.joined(w, roomId, m, windowByRoom);
          if (entry) rooms.join[roomId] = entry;
          return;
        }
        case 'invite':
        case 'knock': {
          if (!changedSinceToken) return;
          const ev = await reader.getEvent(m.eventId);
          if (!ev) return;
          if (m.membership === 'invite' && (await this.deps.ignored?.of(w.viewer.userId))?.has(ev.pdu.sender)) return;
          const events = await strippedStateFor(reader, this.deps.serializer, ev, w.viewer, w.now);
          if (m.membership === 'invite') rooms.invite[roomId] = { invite_state: { events } };
          else rooms.knock[roomId] = { knock_state: { events } };
          return;
        }
        case 'leave':
        case 'ban': {
          if (member.forgotten) return;
          // Initial and full-state syncs list left rooms only on request (include_leave);
          // an incremental sync always tells the client about a room it just left.
          const justLeft = w.since !== undefined && m.stream > w.since;
          if (!justLeft && !(w.filter.room.includeLeave && (w.since === undefined || w.fullState))) return;
          const entry = await this.left(w, roomId, m, windowByRoom);
          if (entry) rooms.leave[roomId] = entry;
          return;
        }
      }
    });
    return { rooms, joinedRoomIds };
  }

  // ── joined rooms ───────────────────────────────────────────────────────────
  private async joined(
    w: SyncWindow,
    roomId: string,
    m: Member,
    windowByRoom: Map<string, StoredEvent[]> | undefined,
  ): Promise<Record<string, unknown> | undefined> {
    // A room that got its full state since the token counts as newly joined (Synapse: the
    // un-partial-stated rooms stream), so a client that never saw it gets it whole.
    const completedAt = this.deps.partialState?.completedAt(roomId);
    const newlyJoined =
      w.since !== undefined &&
      ((m.stream > w.since && (await this.memberAt(roomId, w.viewer.userId, w.since))?.membership !== 'join') ||
        (completedAt !== undefined && completedAt > w.since && completedAt <= w.upTo && !w.filter.room.state.lazyLoadMembers));
    // A room joined since the token is sent as in an initial sync.
    const since = newlyJoined ? undefined : w.since;
    const ephemeral = await this.ephemeral(w, roomId, since);
    // Also its account data: e.g. tags set while invited (the m.server_notice tag) are not in the window.
    const accountData =
      newlyJoined && this.deps.roomAccountData
        ? this.roomAccountData(w, roomId, await this.deps.roomAccountData(w.viewer.userId, roomId, w.upTo))
        : this.roomAccountData(w, roomId);

    let preloaded: StoredEvent[] | undefined;
    if (since !== undefined) {
      preloaded = windowByRoom?.get(roomId) ?? (windowByRoom ? [] : undefined);
      const hasEvents = preloaded ? preloaded.length > 0 : await this.hasEventsIn(roomId, since, w.upTo);
      if (!hasEvents && ephemeral.length === 0 && accountData.length === 0 && !w.fullState) return undefined;
    }
    const body = await this.roomBody(w, roomId, { since, upTo: w.upTo, full: since === undefined || w.fullState, preloaded });
    const isNew = since === undefined || w.fullState;
    if (!isNew && body.timelineEvents === 0 && body.stateEvents === 0 && ephemeral.length === 0 && accountData.length === 0) {
      return undefined;
    }
    const entry: Record<string, unknown> = {
      timeline: body.timeline,
      state: { events: body.state },
      ephemeral: { events: ephemeral },
      account_data: { events: accountData },
      ...(await this.deps.unread.forSync(w.viewer.userId, roomId, w.upTo, w.filter.room.timeline.unreadThreadNotifications)),
    };
    if (isNew || body.membersChanged) entry.summary = await roomSummary(this.deps.reader, roomId, w.viewer.userId);
    return entry;
  }

  // ── left rooms ─────────────────────────────────────────────────────────────
  private async left(
    w: SyncWindow,
    roomId: string,
    m: Member,
    windowByRoom: Map<string, StoredEvent[]> | undefined,
  ): Promise<Record<string, unknown> | undefined> {
    const { reader } = this.deps;
    const accountData = this.roomAccountData(w, roomId);
    const wasJoined = (await this.memberBefore(w.viewer.userId, m.eventId)) === 'join';
    if (!wasJoined) {
      // A rejected invite or withdrawn knock: the client only learns of its own leave.
      const ev = await reader.getEvent(m.eventId);
      if (!ev) return undefined;
      const events = await this.deps.serializer.many([ev], w.viewer, w.now, this.serializeOpts(w));
      return {
        timeline: { events, limited: false, prev_batch: encodeToken(m.stream - 1) },
        state: { events: [] },
        account_data: { events: accountData },
      };
    }
    const joinedAtSince =
      w.since !== undefined && !w.fullState && (await this.memberAt(roomId, w.viewer.userId, w.since))?.membership === 'join';
    const since = joinedAtSince ? w.since : undefined;
    const upTo = Math.min(m.stream, w.upTo);
    const preloaded = since !== undefined && windowByRoom ? (windowByRoom.get(roomId) ?? []) : undefined;
    const body = await this.roomBody(w, roomId, { since, upTo, full: since === undefined, preloaded });
    return { timeline: body.timeline, state: { events: body.state }, account_data: { events: accountData } };
  }

  // ── timeline and state of a joined or left room ─────────────────────────────
  private async roomBody(
    w: SyncWindow,
    roomId: string,
    opts: { since: number | undefined; upTo: number; full: boolean; preloaded: StoredEvent[] | undefined },
  ) {
    const { reader } = this.deps;
    const tf = w.filter.room.timeline;
    const limit = Math.min(tf.limit ?? DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT);
    const source = opts.preloaded ? preloadedSource(opts.preloaded) : readerSource(reader, roomId);
    const scan = await scanTimeline(
      source,
      { after: opts.since, upTo: opts.upTo, dir: 'b' },
      (batch) => this.keep(w.viewer.userId, roomId, tf, batch),
      limit,
    );
    const events = scan.events.reverse();
    const limited = !scan.exhausted;
    const timelineIds = new Set(events.map((e) => e.eventId));
    const startPos = events.length > 0 ? events[0].stream - 1 : opts.upTo;

    // State: nothing to compute on the common incremental path (no gap, nothing hidden).
    const sf = w.filter.room.state;
    let state = new Map<StateKey, string>();
    let start: Map<StateKey, string> | undefined;
    if (opts.full || limited || scan.dropped) {
      start = await reader.stateAtStream(roomId, startPos);
      const end = scan.dropped && events.length > 0 ? await reader.stateAtStream(roomId, opts.upTo) : undefined;
      const previous = opts.full || opts.since === undefined ? undefined : await reader.stateAtStream(roomId, opts.since);
      state = stateDelta({ start, end, previous, timelineIds });
    }
    if (sf.lazyLoadMembers) {
      start ??= await reader.stateAtStream(roomId, startPos);
      const wanted = new Set(events.map((e) => e.pdu.sender));
      if (opts.full) {
        wanted.add(w.viewer.userId);
        // Heroes' members too, so the client can name the room (sync.yaml "m.heroes").
        for (const h of (await roomSummary(reader, roomId, w.viewer.userId))['m.heroes']) wanted.add(h);
      }
      state = lazyLoadMembers(state, { wanted, start, timelineIds, incremental: !opts.full });
    }
    // Usually nothing: an incremental sync without a gap carries no state.
    const stateEvents =
      state.size === 0
        ? []
        : (await reader.getEvents([...state.values()])).filter(
            (e): e is StoredEvent => e !== undefined && sf.matches({ type: e.pdu.type, sender: e.pdu.sender, roomId, content: e.pdu.content }),
          );
    const ser = this.serializeOpts(w);
    const membersChanged =
      events.some((e) => e.pdu.type === 'm.room.member') || stateEvents.some((e) => e.pdu.type === 'm.room.member' && !opts.full);
    return {
      timeline: {
        events: await this.deps.serializer.many(events, w.viewer, w.now, ser),
        limited,
        prev_batch: encodeToken(startPos),
      },
      state: stateEvents.length === 0 ? [] : await this.deps.serializer.many(stateEvents, w.viewer, w.now, ser),
      timelineEvents: events.length,
      stateEvents: stateEvents.length,
      membersChanged,
    };
  }

  /** Events of a batch that pass the timeline filter and history visibility. */
  private async keep(userId: string, roomId: string, f: RoomEventMatcher, batch: StoredEvent[]): Promise<StoredEvent[]> {
    const matching = batch.filter((e) => f.matches({ type: e.pdu.type, sender: e.pdu.sender, roomId, content: e.pdu.content }));
    return matching.length === 0 ? matching : this.deps.visible(userId, roomId, matching);
  }

  // ── ephemeral and account data ─────────────────────────────────────────────
  private async ephemeral(w: SyncWindow, roomId: string, since: number | undefined): Promise<Array<{ type: string; content: unknown }>> {
    const f = w.filter.room.ephemeral;
    const out: Array<{ type: string; content: unknown }> = [];
    const typing = this.deps.typing.typing(roomId);
    if (typing && (since === undefined ? typing.userIds.length > 0 : typing.stream > since)) {
      out.push({ type: 'm.typing', content: { user_ids: typing.userIds } });
    }
    const receipts = await this.deps.receipts.forSync(roomId, w.viewer.userId, since, w.upTo);
    if (receipts) out.push({ type: 'm.receipt', content: receipts });
    return limitMatching(out, f, roomId);
  }

  private roomAccountData(w: SyncWindow, roomId: string, all?: AccountDataEntry[]): Array<{ type: string; content: unknown }> {
    const entries = (all ?? w.roomAccountData.get(roomId) ?? []).map((e) => ({ type: e.type, content: e.content }));
    return limitMatching(entries, w.filter.room.accountData, roomId);
  }

  // ── helpers ────────────────────────────────────────────────────────────────
  /**
   * Whether a window ending at `upTo` sees the room with partial state. A completion is marked
   * in memory before its stream position is readable: a window ending before that position
   * still leaves the room out, as the windows before it did, so that the one containing it is
   * the only one to send the room — a room sent earlier too would come again as newly joined,
   * with state from before events the client already has (matrix-js-sdk then rolls the user's
   * own join back to the invite).
   */
  private partialAt(roomId: string, upTo: number): boolean {
    const partial = this.deps.partialState;
    if (!partial) return false;
    if (partial.isPartial(roomId)) return true;
    const completedAt = partial.completedAt(roomId);
    return completedAt !== undefined && completedAt > upTo;
  }

  private serializeOpts(w: SyncWindow) {
    return { eventFields: w.filter.eventFields, eventFormat: w.filter.eventFormat, withoutRoomId: true };
  }

  private windowEvents(w: SyncWindow): Promise<Map<string, StoredEvent[]> | undefined> {
    return w.since === undefined ? Promise.resolve(undefined) : this.newEvents(w.since, w.upTo);
  }

  /** Every room event in (since, upTo] grouped by room (read only: shared), or undefined when the window is too large. */
  newEvents(since: number, upTo: number): Promise<Map<string, StoredEvent[]> | undefined> {
    if (since >= upTo) return Promise.resolve(new Map());
    const cap = this.deps.windowCap ?? WINDOW_CAP;
    const k = `${since}:${upTo}:${cap}`;
    const known = this.windows.get(k);
    if (known) return known.read;
    const window: SharedWindow = { read: this.readWindow(since, upTo, cap) };
    this.windows.set(k, window);
    if (this.windows.size > SHARED_WINDOWS) this.windows.delete(this.windows.keys().next().value as string);
    window.read.then(
      (events) => (window.events = events),
      // A failed read is not remembered.
      () => this.windows.get(k) === window && this.windows.delete(k),
    );
    return window.read;
  }

  /** newEvents' answer if a read of the window already ended with one; otherwise (not read yet, or too large) undefined. */
  readNewEvents(since: number, upTo: number): Map<string, StoredEvent[]> | undefined {
    return since < upTo ? this.windows.get(`${since}:${upTo}:${this.deps.windowCap ?? WINDOW_CAP}`)?.events : undefined;
  }

  /** The window's events grouped by room (callers share the result: read only). */
  private async readWindow(since: number, upTo: number, cap: number): Promise<Map<string, StoredEvent[]> | undefined> {
    const byRoom = new Map<string, StoredEvent[]>();
    const events = await this.deps.reader.eventsSince(since, upTo, cap);
    if (events.length >= cap) return undefined;
    for (const e of events) {
      let list = byRoom.get(e.roomId);
      if (!list) byRoom.set(e.roomId, (list = []));
      list.push(e);
    }
    return byRoom;
  }

  private async hasEventsIn(roomId: string, since: number, upTo: number): Promise<boolean> {
    return (await this.deps.reader.timeline(roomId, { after: since, upTo, dir: 'b', limit: 1 })).length > 0;
  }

  /** The user's membership in the room as of stream position `pos`. */
  private async memberAt(roomId: string, userId: string, pos: number): Promise<Member | undefined> {
    const state = await this.deps.reader.stateAtStream(roomId, pos);
    return this.memberFrom(state.get(stateKeyOf('m.room.member', userId)));
  }

  /** The user's membership just before the given event. */
  private async memberBefore(userId: string, eventId: string): Promise<Membership | undefined> {
    const key = stateKeyOf('m.room.member', userId);
    const [state] = await this.deps.reader.stateEntriesAt([eventId], [key], 'before');
    return (await this.memberFrom(state?.get(key)))?.membership;
  }

  private async memberFrom(eventId: string | undefined): Promise<Member | undefined> {
    if (eventId === undefined) return undefined;
    const ev = await this.deps.reader.getEvent(eventId);
    const membership = ev?.pdu.content.membership;
    if (!ev || typeof membership !== 'string') return undefined;
    return { membership: membership as Membership, eventId, stream: ev.stream };
  }
}

/** Ephemeral or account data events through a filter and its limit. */
function limitMatching<T extends { type: string }>(events: T[], f: EventMatcher, roomId: string): T[] {
  const kept = events.filter((e) => f.matches({ type: e.type, roomId }));
  return f.limit === undefined ? kept : kept.slice(0, f.limit);
}

async function forEachLimited<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}
