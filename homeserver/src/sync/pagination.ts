// Reading a room's history: GET /rooms/{roomId}/messages and /context/{eventId}.
// Tokens are the same stream positions as /sync's (token.ts), so prev_batch from /sync
// continues here without gaps or repeats.
// Spec: client-server-api/_index.md "Syncing" / "Getting events for a room";
// data/api/client-server/message_pagination.yaml, event_context.yaml; lazy loading:
// "Lazy-loading room members".
import { splitStateKey, stateKeyOf, type StateKey } from '@parley/federation/core/types';
import { forbidden, notFound } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { RoomEventMatcher } from './filterMatch.js';
import type { Clock, Viewer, VisibilityFilter } from './ports.js';
import { readerSource, scanTimeline, type Dir } from './scan.js';
import type { EventSerializer } from './serialize.js';
import { encodePageToken as encodeToken, parsePageToken as parseToken } from './token.js';

export const DEFAULT_PAGE_LIMIT = 10;
/** Below every position: history fetched from other servers has negative positions (storage/timelineRepo.ts). */
const BOTTOM = -Number.MAX_SAFE_INTEGER;

/**
 * Fetches older history of a room from other servers (federation backfill) when a backwards
 * page reaches the earliest event this server has. True when events were added.
 */
export interface HistoryBackfill {
  fill(roomId: string, want: number): Promise<boolean>;
  /** Fill holes below events at positions in (after, upTo] (federation/outbound/backfiller.ts). True when events were added. */
  fillGaps?(roomId: string, after: number, upTo: number, want: number): Promise<boolean>;
}
export const MAX_PAGE_LIMIT = 1000;

export interface PaginationDeps {
  reader: RoomReader;
  visible: VisibilityFilter;
  serializer: EventSerializer;
  stream: { readonly persisted: number };
  now?: Clock;
}

export interface MessagesQuery {
  from?: string;
  to?: string;
  dir: Dir;
  limit?: number;
  filter: RoomEventMatcher;
}

export class PaginationService {
  private readonly now: Clock;
  private backfill: HistoryBackfill | undefined;

  constructor(private readonly deps: PaginationDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Federation: fetch older history when /messages dir=b runs out (bound once federation exists). */
  setBackfill(backfill: HistoryBackfill): void {
    this.backfill = backfill;
  }

  async messages(viewer: Viewer, roomId: string, q: MessagesQuery): Promise<Record<string, unknown>> {
    const bound = await this.readableUpTo(viewer.userId, roomId);
    const limit = clampLimit(q.limit);
    const from = q.from !== undefined ? parseToken(q.from, 'from') : undefined;
    const to = q.to !== undefined ? parseToken(q.to, 'to') : undefined;
    // Absent `from`: the newest event for dir=b, the oldest for dir=f (message_pagination.yaml).
    const start = from ?? (q.dir === 'b' ? bound : 0);
    const window =
      q.dir === 'b'
        ? { after: to ?? BOTTOM, upTo: Math.min(start, bound), dir: q.dir }
        : { after: start, upTo: Math.min(to ?? bound, bound), dir: q.dir };
    const keep = (batch: StoredEvent[]) => this.keep(viewer.userId, roomId, q.filter, batch);
    const source = readerSource(this.deps.reader, roomId);
    let scan = await scanTimeline(source, window, keep, limit);
    // A page that walked across a hole in the middle of the history has it filled, then is read again.
    if (q.dir === 'b' && this.backfill?.fillGaps && (await this.backfill.fillGaps(roomId, scan.cursor, window.upTo, limit))) {
      scan = await scanTimeline(source, window, keep, limit);
    }
    // Spec: server-server-api.md "Backfilling and retrieving missing events": the page reached the
    // oldest event we have; other servers of the room may have older ones. Then the page goes on.
    if (q.dir === 'b' && to === undefined && scan.exhausted && this.backfill && (await this.backfill.fill(roomId, limit))) {
      if (scan.events.length < limit) {
        const more = await scanTimeline(source, { after: BOTTOM, upTo: scan.cursor, dir: 'b' }, keep, limit - scan.events.length);
        scan = { ...more, events: [...scan.events, ...more.events], dropped: scan.dropped || more.dropped };
      } else {
        scan = { ...scan, exhausted: false }; // a full page: the fetched history comes with the next one
      }
    }
    const now = this.now();
    const body: Record<string, unknown> = {
      start: q.from ?? encodeToken(start),
      chunk: await this.deps.serializer.many(scan.events, viewer, now),
    };
    // `end` is omitted when there is nothing further (message_pagination.yaml).
    if (!scan.exhausted) body.end = encodeToken(scan.cursor);
    if (q.filter.lazyLoadMembers && scan.events.length > 0) {
      body.state = await this.memberEventsFor(viewer, roomId, scan.events, scan.events[0].stream, now);
    }
    return body;
  }

  async context(viewer: Viewer, roomId: string, eventId: string, limitParam: number | undefined, filter: RoomEventMatcher) {
    const bound = await this.readableUpTo(viewer.userId, roomId);
    const ev = await this.deps.reader.getEvent(eventId);
    if (!ev || ev.roomId !== roomId || ev.outlier || ev.stream > bound) throw notFound('Event not found');
    if ((await this.deps.visible(viewer.userId, roomId, [ev])).length === 0) throw notFound('Event not found');
    // event_context.yaml: the limit covers events_before and events_after together.
    const limit = clampLimit(limitParam);
    const beforeLimit = Math.floor(limit / 2);
    const source = readerSource(this.deps.reader, roomId);
    const keep = (batch: StoredEvent[]) => this.keep(viewer.userId, roomId, filter, batch);
    const before = await scanTimeline(source, { after: BOTTOM, upTo: ev.stream - 1, dir: 'b' }, keep, beforeLimit);
    const after = await scanTimeline(source, { after: ev.stream, upTo: bound, dir: 'f' }, keep, limit - beforeLimit);
    const last = after.events.at(-1) ?? ev;
    const now = this.now();
    const state = await this.stateAt(viewer, roomId, last, filter, [ev, ...before.events, ...after.events], now);
    return {
      start: encodeToken(before.cursor),
      end: encodeToken(after.cursor),
      events_before: await this.deps.serializer.many(before.events, viewer, now),
      event: await this.deps.serializer.one(ev, viewer, now),
      events_after: await this.deps.serializer.many(after.events, viewer, now),
      state,
    };
  }

  /**
   * The highest stream position the user may read in the room: everything for members,
   * up to their leave for departed users (as Synapse), 403 otherwise unless the room is
   * world-readable. Finer per-event rules are the visibility filter's.
   */
  private async readableUpTo(userId: string, roomId: string): Promise<number> {
    const persisted = this.deps.stream.persisted;
    const m = await this.deps.reader.membership(roomId, userId);
    if (m?.membership === 'join') return persisted;
    if ((m?.membership === 'leave' || m?.membership === 'ban') && !m.forgotten) return Math.min(m.stream, persisted);
    const hv = await this.deps.reader.currentStateEvent(roomId, 'm.room.history_visibility', '');
    if (hv?.pdu.content.history_visibility === 'world_readable') return persisted;
    throw forbidden('You are not allowed to read this room');
  }

  private async keep(userId: string, roomId: string, f: RoomEventMatcher, batch: StoredEvent[]): Promise<StoredEvent[]> {
    const matching = batch.filter((e) => f.matches({ type: e.pdu.type, sender: e.pdu.sender, roomId, content: e.pdu.content }));
    return matching.length === 0 ? matching : this.deps.visible(userId, roomId, matching);
  }

  /** context `state`: the room state at the last returned event, through the filter (lazily: senders only). */
  private async stateAt(viewer: Viewer, roomId: string, last: StoredEvent, f: RoomEventMatcher, shown: StoredEvent[], now: number) {
    const state = (await this.deps.reader.stateAfter(last.eventId)) ?? (await this.deps.reader.stateAtStream(roomId, last.stream));
    const senders = new Set(shown.map((e) => e.pdu.sender));
    const ids: string[] = [];
    for (const [k, id] of state) {
      const [type, stateKey] = splitStateKey(k);
      if (f.lazyLoadMembers && type === 'm.room.member' && !senders.has(stateKey)) continue;
      ids.push(id);
    }
    const events = (await this.deps.reader.getEvents(ids)).filter(
      (e): e is StoredEvent => e !== undefined && f.matches({ type: e.pdu.type, sender: e.pdu.sender, roomId, content: e.pdu.content }),
    );
    return this.deps.serializer.many(events, viewer, now);
  }

  /** /messages `state` with lazy loading: the member events of the chunk's senders. */
  private async memberEventsFor(viewer: Viewer, roomId: string, chunk: StoredEvent[], at: number, now: number) {
    const state: Map<StateKey, string> = await this.deps.reader.stateAtStream(roomId, at);
    const ids = [...new Set(chunk.map((e) => e.pdu.sender))]
      .map((u) => state.get(stateKeyOf('m.room.member', u)))
      .filter((id): id is string => id !== undefined);
    const events = (await this.deps.reader.getEvents(ids)).filter((e): e is StoredEvent => e !== undefined);
    return this.deps.serializer.many(events, viewer, now);
  }
}

function clampLimit(limit: number | undefined): number {
  return Math.min(Math.max(limit ?? DEFAULT_PAGE_LIMIT, 0), MAX_PAGE_LIMIT);
}

