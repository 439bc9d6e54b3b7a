// GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]] and GET
// /rooms/{roomId}/threads. Tokens are the stream tokens of /sync and /messages (a
// position in the room's stream), so pages never overlap or skip.
// Spec: client-server-api/_index.md "Relationships API" (relations.yaml);
// modules/threading.md "Querying threads in a room" (threads_list.yaml).
import { forbidden, notFound } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { RelationEntry, RelationsRepo } from '../storage/relationsRepo.js';
import { preloadedSource, scanTimeline, type Dir, type TimelineSource } from '../sync/scan.js';
import { encodePageToken, encodeToken, parsePageToken, parseToken } from '../sync/token.js';
import type { Viewer } from './aggregations.js';

export const DEFAULT_RELATIONS_LIMIT = 5;
export const MAX_RELATIONS_LIMIT = 100;
/** Levels followed with recurse=true (relations.yaml: at least 3). */
export const RECURSION_DEPTH = 3;
/** Most related events gathered for one recursive query. */
const MAX_RECURSIVE = 2000;
const MAX = Number.MAX_SAFE_INTEGER;
/** Below every position: children fetched by backfill have negative ones (storage/relationsRepo.ts). */
const BOTTOM = -MAX;

export interface RelationsDeps {
  relations: Pick<RelationsRepo, 'children' | 'threadActivity'>;
  reader: Pick<RoomReader, 'getEvent' | 'getEvents' | 'membership' | 'currentStateEvent'>;
  shortRoom(roomId: string): Promise<number | undefined>;
  /** History visibility, with ignored users' events removed. */
  visible(userId: string, roomId: string, events: StoredEvent[]): Promise<StoredEvent[]>;
  /** Client format with bundled aggregations, for a page of events. */
  serialize(events: StoredEvent[], viewer: Viewer): Promise<Record<string, unknown>[]>;
}

export interface RelationsQuery {
  relType?: string;
  eventType?: string;
  from?: string;
  to?: string;
  limit?: number;
  dir: Dir;
  recurse: boolean;
}

export class RelationsService {
  constructor(private readonly deps: RelationsDeps) {}

  async relations(viewer: Viewer, roomId: string, eventId: string, q: RelationsQuery): Promise<Record<string, unknown>> {
    const { reader, visible } = this.deps;
    const parent = await reader.getEvent(eventId);
    // relations.yaml 404: unknown, or not visible to the user.
    if (!parent || parent.roomId !== roomId || parent.outlier || (await visible(viewer.userId, roomId, [parent])).length === 0) {
      throw notFound('Event not found');
    }
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_RELATIONS_LIMIT, 1), MAX_RELATIONS_LIMIT);
    // Page tokens: a cursor among backfilled children is negative (`h<n>`, as /messages).
    const from = q.from === undefined ? undefined : parsePageToken(q.from, 'from');
    const to = q.to === undefined ? undefined : parsePageToken(q.to, 'to');
    const window =
      q.dir === 'b' ? { after: to ?? BOTTOM, upTo: from ?? MAX, dir: q.dir } : { after: from ?? BOTTOM, upTo: to ?? MAX, dir: q.dir };

    const source: TimelineSource = q.recurse
      ? preloadedSource(await this.recursive(eventId, roomId, q))
      : async (o) => {
          const entries = await this.deps.relations.children(eventId, { ...o, ...(q.relType !== undefined ? { relType: q.relType } : {}) });
          return this.load(entries, roomId);
        };
    const scan = await scanTimeline(
      source,
      window,
      async (batch) => {
        const matching = batch.filter((e) => q.eventType === undefined || e.pdu.type === q.eventType);
        return matching.length === 0 ? matching : visible(viewer.userId, roomId, matching);
      },
      limit,
    );
    const body: Record<string, unknown> = { chunk: await this.deps.serialize(scan.events, viewer) };
    if (!scan.exhausted) body.next_batch = encodePageToken(scan.cursor);
    if (q.from !== undefined) body.prev_batch = q.from;
    if (q.recurse) body.recursion_depth = RECURSION_DEPTH;
    return body;
  }

  async threads(
    viewer: Viewer,
    roomId: string,
    q: { include: 'all' | 'participated'; from?: string; limit?: number },
  ): Promise<Record<string, unknown>> {
    const { reader, relations } = this.deps;
    await this.mayRead(viewer.userId, roomId);
    const shortRoom = await this.deps.shortRoom(roomId);
    if (shortRoom === undefined) throw forbidden('You are not allowed to view this room');
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_RELATIONS_LIMIT, 1), MAX_RELATIONS_LIMIT);
    let cursor = q.from === undefined ? MAX : parseToken(q.from, 'from');
    const roots: StoredEvent[] = [];
    let more = true;
    while (roots.length < limit && more) {
      const batch = await relations.threadActivity(shortRoom, cursor, 100);
      more = batch.length === 100;
      for (const { stream, rootId } of batch) {
        if (roots.length >= limit) {
          more = true;
          break;
        }
        cursor = stream - 1;
        // A root is listed once, at its newest reply (ordered by latest activity).
        const [latest] = await relations.children(rootId, { relType: 'm.thread', dir: 'b', limit: 1 });
        if (latest?.stream !== stream) continue;
        const root = await reader.getEvent(rootId);
        if (!root || root.roomId !== roomId || (await this.deps.visible(viewer.userId, roomId, [root])).length === 0) continue;
        if (q.include === 'participated' && !(await this.participated(viewer.userId, root))) continue;
        roots.push(root);
      }
      if (batch.length === 0) more = false;
    }
    const body: Record<string, unknown> = { chunk: await this.deps.serialize(roots, viewer) };
    if (more && cursor > 0) body.next_batch = encodeToken(cursor);
    return body;
  }

  private async participated(userId: string, root: StoredEvent): Promise<boolean> {
    if (root.pdu.sender === userId) return true;
    const replies = await this.deps.relations.children(root.eventId, { relType: 'm.thread', dir: 'f', limit: MAX });
    return replies.some((r) => r.sender === userId);
  }

  /** threads_list.yaml 403: the user can neither see nor peek into the room. */
  private async mayRead(userId: string, roomId: string): Promise<void> {
    const m = await this.deps.reader.membership(roomId, userId);
    if (m?.membership === 'join' || ((m?.membership === 'leave' || m?.membership === 'ban') && !m.forgotten)) return;
    const hv = await this.deps.reader.currentStateEvent(roomId, 'm.room.history_visibility', '');
    if (hv?.pdu.content.history_visibility !== 'world_readable') throw forbidden('You are not allowed to view this room');
  }

  /** Related events up to RECURSION_DEPTH levels, through matching events only, ascending. */
  private async recursive(eventId: string, roomId: string, q: RelationsQuery): Promise<StoredEvent[]> {
    const found = new Map<string, RelationEntry>();
    let level = [eventId];
    for (let depth = 0; depth < RECURSION_DEPTH && level.length > 0 && found.size < MAX_RECURSIVE; depth++) {
      const next: string[] = [];
      for (const parentId of level) {
        const kids = await this.deps.relations.children(parentId, {
          ...(q.relType !== undefined ? { relType: q.relType } : {}),
          dir: 'f',
          limit: MAX_RECURSIVE,
        });
        for (const k of kids) {
          if (found.has(k.eventId) || k.eventId === eventId) continue;
          if (q.eventType !== undefined && k.type !== q.eventType) continue;
          found.set(k.eventId, k);
          next.push(k.eventId);
        }
      }
      level = next;
    }
    const entries = [...found.values()].sort((a, b) => a.stream - b.stream).slice(0, MAX_RECURSIVE);
    return this.load(entries, roomId);
  }

  private async load(entries: RelationEntry[], roomId: string): Promise<StoredEvent[]> {
    const events = await this.deps.reader.getEvents(entries.map((e) => e.eventId));
    return events.filter((e): e is StoredEvent => e !== undefined && e.roomId === roomId);
  }
}
