// Reads a local user makes of one room: state, members, single events. Who may
// read what follows Synapse: members read the current state; users who left read
// the state as it was when they left; anyone reads a world_readable room; others 403.
// Spec: client-server-api rooms.yaml (GET /state, /members, /joined_members, /event),
// list_joined_rooms.yaml.
import type { PartialStateView } from './partialStateRooms.js';
import { splitStateKey, stateKeyOf, type StateKey } from '@parley/federation/core/types';
import { toClientEvent, type ClientEvent, type Viewer } from '../events/clientEvent.js';
import { forbidden, notFound } from '../http/errors.js';
import type { Membership, RoomReader, StoredEvent } from './types.js';
import type { HistoryVisibility } from './visibility.js';

/** Current state, or the state after the viewer's departure (their last member event). */
type ReadPoint = { current: true } | { current: false; eventId: string; stream: number };

export interface MembersQuery {
  /** A stream position (from an `s<N>` token). */
  at?: number;
  membership?: Membership;
  notMembership?: Membership;
}

/** unsigned.m.relations for served events (messaging/aggregations.ts), plugged in by main.ts. */
export type EventBundler = (events: StoredEvent[], viewer: Viewer, now: number) => Promise<Map<string, Record<string, unknown>>>;

export class RoomQueries {
  private bundler: EventBundler | undefined;

  constructor(
    private readonly reader: RoomReader,
    private readonly visibility: HistoryVisibility,
    private readonly clock: () => number = Date.now,
    /** Rooms joined with partial state: member lists wait for the full state (rooms/partialStateRooms.ts). */
    private readonly fullState?: Pick<PartialStateView, 'awaitFullState'>,
  ) {}

  /** GET /event includes bundled aggregations (client-server-api "Aggregations of child events"). */
  useBundler(bundler: EventBundler): void {
    this.bundler = bundler;
  }

  async state(viewer: Viewer, roomId: string): Promise<ClientEvent[]> {
    const point = await this.readPoint(viewer.userId, roomId);
    const state = point.current ? await this.reader.currentState(roomId) : await this.reader.stateAfter(point.eventId);
    return this.format(viewer, await this.eventsOf([...(state ?? new Map<StateKey, string>()).values()]));
  }

  async stateEvent(viewer: Viewer, roomId: string, type: string, stateKey: string, format: 'content' | 'event'): Promise<unknown> {
    const point = await this.readPoint(viewer.userId, roomId);
    let ev: StoredEvent | undefined;
    if (point.current) {
      ev = await this.reader.currentStateEvent(roomId, type, stateKey);
    } else {
      const key = stateKeyOf(type, stateKey);
      const [entries] = await this.reader.stateEntriesAt([point.eventId], [key], 'after');
      const id = entries?.get(key);
      ev = id === undefined ? undefined : await this.reader.getEvent(id);
    }
    if (!ev) throw notFound(`No ${type} state event with state key ${JSON.stringify(stateKey)}`);
    return format === 'event' ? toClientEvent(ev, viewer, this.clock()) : ev.pdu.content;
  }

  async members(viewer: Viewer, roomId: string, q: MembersQuery): Promise<{ chunk: ClientEvent[] }> {
    const point = await this.readPoint(viewer.userId, roomId);
    // A partial-state room (MSC3706) lacks most members until its resync: wait, as Synapse does.
    await this.fullState?.awaitFullState(roomId);
    let ids: string[];
    if (point.current && q.at === undefined) {
      ids = (await this.reader.members(roomId)).map((m) => m.member.eventId);
    } else {
      const limit = point.current ? Infinity : point.stream;
      const state =
        q.at === undefined && !point.current
          ? await this.reader.stateAfter(point.eventId)
          : await this.reader.stateAtStream(roomId, Math.min(q.at ?? Infinity, limit));
      ids = [...(state ?? new Map<StateKey, string>())].filter(([k]) => splitStateKey(k)[0] === 'm.room.member').map(([, id]) => id);
    }
    const events = (await this.eventsOf(ids)).filter((e) => matches(e.pdu.content.membership, q));
    return { chunk: this.format(viewer, events) };
  }

  /** GET /joined_members: only for members of the room (Synapse). */
  async joinedMembers(userId: string, roomId: string): Promise<Record<string, { display_name?: string; avatar_url?: string }>> {
    const me = await this.reader.membership(roomId, userId);
    if (me?.membership !== 'join') throw forbidden('You are not in this room');
    await this.fullState?.awaitFullState(roomId);
    const joined = (await this.reader.members(roomId)).filter((m) => m.member.membership === 'join');
    const events = await this.reader.getEvents(joined.map((m) => m.member.eventId));
    const out: Record<string, { display_name?: string; avatar_url?: string }> = {};
    joined.forEach((m, i) => {
      const c = events[i]?.pdu.content ?? {};
      out[m.userId] = {
        ...(typeof c.displayname === 'string' ? { display_name: c.displayname } : {}),
        ...(typeof c.avatar_url === 'string' ? { avatar_url: c.avatar_url } : {}),
      };
    });
    return out;
  }

  async joinedRooms(userId: string): Promise<string[]> {
    return (await this.reader.roomsOfUser(userId)).filter((r) => r.member.membership === 'join').map((r) => r.roomId);
  }

  /** GET /event: 404 whether the event is unknown, in another room, rejected, or not visible to the viewer. */
  async event(viewer: Viewer, roomId: string, eventId: string): Promise<ClientEvent> {
    const stored = await this.reader.getEvent(eventId);
    // view(): the event as this viewer may see it (erased senders' events come redacted).
    // Rejected events are kept only so they are not fetched again: never shown (as Synapse).
    const shown = stored && stored.roomId === roomId && !stored.outlier && stored.rejected === undefined;
    const ev = shown ? await this.visibility.view(viewer.userId, stored) : undefined;
    if (!ev) throw notFound('Event not found');
    const now = this.clock();
    const out = toClientEvent(ev, viewer, now);
    const relations = this.bundler && (await this.bundler([ev], viewer, now)).get(ev.eventId);
    if (relations) out.unsigned = { ...out.unsigned, 'm.relations': relations };
    return out;
  }

  private async readPoint(userId: string, roomId: string): Promise<ReadPoint> {
    const me = await this.reader.membership(roomId, userId);
    if (me?.membership === 'join') return { current: true };
    const hv = await this.reader.currentStateEvent(roomId, 'm.room.history_visibility', '');
    if (hv?.pdu.content.history_visibility === 'world_readable') return { current: true };
    if (me && !me.forgotten && (me.membership === 'leave' || me.membership === 'ban')) {
      return { current: false, eventId: me.eventId, stream: me.stream };
    }
    // Peeking is local only: a room this server is not in cannot be previewed from another
    // server, as the federation API has no peeking (MSC2444 is unmerged; Synapse has none
    // either). Such a room looks like any room the user may not read: Synapse's 403.
    throw forbidden(`User ${userId} not in room ${roomId}, and room previews are disabled`);
  }

  private async eventsOf(ids: string[]): Promise<StoredEvent[]> {
    return (await this.reader.getEvents(ids)).filter((e): e is StoredEvent => e !== undefined);
  }

  private format(viewer: Viewer, events: StoredEvent[]): ClientEvent[] {
    const now = this.clock();
    return events.map((e) => toClientEvent(e, viewer, now));
  }
}

/** client-server-api GET /members: membership and not_membership together are an OR. */
function matches(membership: unknown, q: MembersQuery): boolean {
  if (q.membership === undefined && q.notMembership === undefined) return true;
  if (q.membership !== undefined && membership === q.membership) return true;
  return q.notMembership !== undefined && membership !== q.notMembership;
}
