// GET /rooms/{roomId}/hierarchy for rooms this server holds: a breadth-first walk of
// m.space.child links from the root, returning the rooms the user may see with their
// summaries and child links. Rooms this server is not in are asked of other servers
// (federation hierarchy, through a RemoteHierarchy port: the child link's via servers, or
// for the root the room's servers we know of); the children a remote answer lists are used
// without asking again. The walk is deterministic, so a page token is just how many rooms
// were already returned (plus the parameters it was made with).
// Spec: client-server-api/modules/spaces.md ("Ordering of children within a space");
// data/api/client-server/space_hierarchy.yaml; definitions/room_summary.yaml.
import { serverNameOf } from '@parley/federation/core/ids';
import { splitStateKey, type StateKey } from '@parley/federation/core/types';
import { forbidden, invalidParam } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import { allowedRoomIds, mayPreviewRoom } from './roomAccess.js';

export const DEFAULT_HIERARCHY_LIMIT = 50;
export const MAX_HIERARCHY_LIMIT = 100;
export const MAX_HIERARCHY_DEPTH = 20;
/** Rooms visited in one walk at most (bounds the work of a request). */
const MAX_VISITED = 1000;

type Reader = Pick<RoomReader, 'membership' | 'currentStateEvent' | 'roomVersion' | 'currentState' | 'getEvents' | 'members'>;

export interface HierarchyQuery {
  suggestedOnly: boolean;
  limit?: number;
  maxDepth?: number;
  from?: string;
}

interface Token {
  skip: number;
  depth: number;
  suggested: boolean;
}

/** A space as another server describes it (server-server-api.md "Spaces", space_hierarchy.yaml). */
export interface RemoteSpace {
  room: Record<string, unknown>;
  children: Record<string, unknown>[];
  inaccessibleChildren: string[];
}

/** The federation hierarchy of a room, from the first of `via` that answers; undefined if none does. */
export interface RemoteHierarchy {
  fetch(roomId: string, via: string[], suggestedOnly: boolean): Promise<RemoteSpace | undefined>;
}

export interface SpaceHierarchyOptions {
  /** Absent (federation disabled; also when serving other servers): only rooms known here are walked. */
  remote?: RemoteHierarchy;
  serverName?: string;
}

interface Entry {
  summary: Record<string, unknown>;
  links: Array<{ roomId: string; via: string[] }>;
}

export class SpaceHierarchy {
  constructor(
    private readonly reader: Reader,
    private readonly opts: SpaceHierarchyOptions = {},
  ) {}

  async hierarchy(userId: string, roomId: string, q: HierarchyQuery): Promise<Record<string, unknown>> {
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_HIERARCHY_LIMIT, 1), MAX_HIERARCHY_LIMIT);
    const maxDepth = Math.min(q.maxDepth ?? MAX_HIERARCHY_DEPTH, MAX_HIERARCHY_DEPTH);
    let skip = 0;
    if (q.from !== undefined) {
      const t = decodeToken(q.from);
      if (!t) throw invalidParam('Unknown pagination token');
      if (t.depth !== maxDepth || t.suggested !== q.suggestedOnly) {
        throw invalidParam('suggested_only and max_depth cannot change on paginated requests');
      }
      skip = t.skip;
    }
    // Summaries other servers gave us during this walk (a remote space lists its children).
    const known = new Map<string, Record<string, unknown>>();
    const inaccessible = new Set<string>();
    const rootVia = await this.serversOf(roomId);
    const root = await this.visit(userId, roomId, rootVia, q.suggestedOnly, known, inaccessible);
    if (!root) throw forbidden('You are not allowed to view this room');

    const rooms: Record<string, unknown>[] = [];
    const seen = new Set<string>([roomId]);
    const queue: Array<{ roomId: string; depth: number; via: string[] }> = [{ roomId, depth: 0, via: rootVia }];
    let index = 0;
    let more = false;
    while (queue.length > 0 && seen.size <= MAX_VISITED) {
      const next = queue.shift()!;
      const entry = next.roomId === roomId ? root : await this.visit(userId, next.roomId, next.via, q.suggestedOnly, known, inaccessible);
      if (!entry) continue;
      if (next.depth < maxDepth) {
        for (const child of entry.links) {
          if (seen.has(child.roomId)) continue;
          seen.add(child.roomId);
          queue.push({ roomId: child.roomId, depth: next.depth + 1, via: child.via });
        }
      }
      if (index++ < skip) continue;
      if (rooms.length >= limit) {
        more = true;
        break;
      }
      rooms.push(entry.summary);
    }
    const body: Record<string, unknown> = { rooms };
    if (more) body.next_batch = encodeToken({ skip: skip + rooms.length, depth: maxDepth, suggested: q.suggestedOnly });
    return body;
  }

  /** One room's summary (with children_state) and its children's IDs, for the federation hierarchy. */
  async roomSummary(roomId: string, suggestedOnly: boolean): Promise<{ summary: Record<string, unknown>; children: string[] }> {
    const e = await this.entry(roomId, suggestedOnly);
    return { summary: e.summary, children: e.links.map((l) => l.roomId) };
  }

  /**
   * A room of the walk the user may see: from local state when this server is in the room,
   * else from a remote answer (given earlier in the walk, or asked of `via`). Undefined: hidden.
   */
  private async visit(
    userId: string,
    roomId: string,
    via: string[],
    suggestedOnly: boolean,
    known: Map<string, Record<string, unknown>>,
    inaccessible: Set<string>,
  ): Promise<Entry | undefined> {
    const { remote } = this.opts;
    const isKnown = (await this.reader.roomVersion(roomId)) !== undefined;
    if (!remote || (isKnown && (await this.serverInRoom(roomId)))) {
      return isKnown && (await mayPreviewRoom(this.reader, userId, roomId)) ? this.entry(roomId, suggestedOnly) : undefined;
    }
    if (inaccessible.has(roomId)) return undefined;
    let summary = known.get(roomId);
    // A child listed by its parent's server is asked again only if it is a space (for its children).
    if (!summary || (summary.room_type === 'm.space' && !Array.isArray(summary.children_state))) {
      const space = await remote.fetch(roomId, via, suggestedOnly);
      if (space) {
        summary = space.room;
        for (const c of space.children) if (typeof c.room_id === 'string' && !known.has(c.room_id)) known.set(c.room_id, c);
        for (const id of space.inaccessibleChildren) inaccessible.add(id);
      }
    }
    if (!summary) {
      // No server answered: what this server still knows of the room, if anything.
      return isKnown && (await mayPreviewRoom(this.reader, userId, roomId)) ? this.entry(roomId, suggestedOnly) : undefined;
    }
    if (!(await this.mayPreviewRemote(userId, roomId, summary))) return undefined;
    const childrenState = Array.isArray(summary.children_state) ? (summary.children_state as Record<string, unknown>[]) : [];
    const links = summary.room_type !== 'm.space' ? [] : remoteLinks(childrenState, suggestedOnly);
    return { summary: { ...summary, children_state: childrenState }, links };
  }

  /** As Synapse: a remote room is shown if it is public, knockable or world_readable, or the user may join it from here. */
  private async mayPreviewRemote(userId: string, roomId: string, summary: Record<string, unknown>): Promise<boolean> {
    const rule = summary.join_rule ?? 'public';
    if (rule === 'public' || rule === 'knock' || rule === 'knock_restricted' || summary.world_readable === true) return true;
    const m = (await this.reader.membership(roomId, userId))?.membership;
    if (m === 'join' || m === 'invite') return true;
    if (rule === 'restricted' && Array.isArray(summary.allowed_room_ids)) {
      for (const id of summary.allowed_room_ids) {
        if (typeof id === 'string' && (await this.reader.membership(id, userId))?.membership === 'join') return true;
      }
    }
    return false;
  }

  /** Whether a user of this server is joined (our copy of the room is then current). */
  private async serverInRoom(roomId: string): Promise<boolean> {
    const { serverName } = this.opts;
    if (serverName === undefined) return true;
    return (await this.reader.members(roomId)).some((m) => m.member.membership === 'join' && serverNameOf(m.userId) === serverName);
  }

  /** Servers to ask about a room the client named: its creator's (before v12) and those of members we know of. */
  private async serversOf(roomId: string): Promise<string[]> {
    const out = new Set<string>();
    const creator = serverNameOf(roomId);
    if (creator !== undefined) out.add(creator);
    if ((await this.reader.roomVersion(roomId)) !== undefined) {
      for (const m of await this.reader.members(roomId)) {
        const s = serverNameOf(m.userId);
        if (m.member.membership === 'join' && s !== undefined) out.add(s);
      }
    }
    if (this.opts.serverName !== undefined) out.delete(this.opts.serverName);
    return [...out];
  }

  /** The room's summary and its children (known locally), in the spec's order. */
  private async entry(roomId: string, suggestedOnly: boolean): Promise<Entry> {
    const state = await this.reader.currentState(roomId);
    const wanted: StateKey[] = [];
    const childKeys: StateKey[] = [];
    for (const k of state.keys()) {
      const [type] = splitStateKey(k);
      if (type === 'm.space.child') childKeys.push(k);
      else if (SUMMARY_TYPES.has(type) && splitStateKey(k)[1] === '') wanted.push(k);
    }
    const ids = [...wanted, ...childKeys].map((k) => state.get(k)!);
    const events = (await this.reader.getEvents(ids)).filter((e): e is StoredEvent => e !== undefined);
    const byType = new Map(events.filter((e) => e.pdu.state_key === '').map((e) => [e.pdu.type, e.pdu.content]));
    const create = byType.get('m.room.create') ?? {};
    const roomType = typeof create.type === 'string' ? create.type : undefined;
    // Only a space's children are listed (space_hierarchy.yaml children_state); links need a non-empty via.
    const links = roomType !== 'm.space' ? [] : orderChildren(events.filter((e) => e.pdu.type === 'm.space.child' && isLink(e, suggestedOnly)));

    const name = byType.get('m.room.name')?.name;
    const topic = plainTopic(byType.get('m.room.topic'));
    const alias = byType.get('m.room.canonical_alias')?.alias;
    const avatar = byType.get('m.room.avatar')?.url;
    const joinRule = byType.get('m.room.join_rules')?.join_rule;
    const encryption = byType.get('m.room.encryption')?.algorithm;
    const joined = (await this.reader.members(roomId)).filter((m) => m.member.membership === 'join').length;
    const summary: Record<string, unknown> = {
      room_id: roomId,
      num_joined_members: joined,
      world_readable: byType.get('m.room.history_visibility')?.history_visibility === 'world_readable',
      guest_can_join: byType.get('m.room.guest_access')?.guest_access === 'can_join',
      join_rule: typeof joinRule === 'string' ? joinRule : 'invite',
      children_state: links.map((e) => ({
        type: e.pdu.type,
        state_key: e.pdu.state_key,
        sender: e.pdu.sender,
        content: e.pdu.content,
        origin_server_ts: e.pdu.origin_server_ts,
      })),
    };
    if (typeof name === 'string') summary.name = name;
    if (topic !== undefined) summary.topic = topic;
    if (typeof alias === 'string') summary.canonical_alias = alias;
    if (typeof avatar === 'string') summary.avatar_url = avatar;
    if (roomType !== undefined) summary.room_type = roomType;
    if (typeof encryption === 'string') summary.encryption = encryption;
    const version = await this.reader.roomVersion(roomId);
    if (version !== undefined) summary.room_version = version;
    if (joinRule === 'restricted' || joinRule === 'knock_restricted') {
      summary.allowed_room_ids = allowedRoomIds(byType.get('m.room.join_rules')?.allow);
    }
    return { summary, links: links.map((e) => ({ roomId: e.pdu.state_key!, via: viaOf(e.pdu.content) })) };
  }
}

function viaOf(content: Record<string, unknown> | undefined): string[] {
  const via = content?.via;
  return Array.isArray(via) ? via.filter((v): v is string => typeof v === 'string') : [];
}

/** Child links of a remote space's children_state (stripped events), in the spec's order. */
function remoteLinks(childrenState: Record<string, unknown>[], suggestedOnly: boolean): Array<{ roomId: string; via: string[] }> {
  const asStored = childrenState
    .filter((e) => e.type === 'm.space.child' && typeof e.state_key === 'string' && typeof e.content === 'object' && e.content !== null)
    .map((e) => ({ pdu: { state_key: e.state_key as string, content: e.content as Record<string, unknown>, origin_server_ts: typeof e.origin_server_ts === 'number' ? e.origin_server_ts : 0 } }) as unknown as StoredEvent)
    .filter((e) => isLink(e, suggestedOnly));
  return orderChildren(asStored).map((e) => ({ roomId: e.pdu.state_key!, via: viaOf(e.pdu.content) }));
}

const SUMMARY_TYPES = new Set([
  'm.room.create',
  'm.room.name',
  'm.room.topic',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.encryption',
]);

function isLink(e: StoredEvent, suggestedOnly: boolean): boolean {
  const via = e.pdu.content.via;
  if (!Array.isArray(via) || via.length === 0) return false;
  return !suggestedOnly || e.pdu.content.suggested === true;
}

/** spaces.md "Ordering of children within a space". */
export function orderChildren(links: StoredEvent[]): StoredEvent[] {
  const orderOf = (e: StoredEvent): string | undefined => {
    const o = e.pdu.content.order;
    return typeof o === 'string' && o.length <= 50 && /^[\x20-\x7E]*$/.test(o) ? o : undefined;
  };
  return [...links].sort((a, b) => {
    const oa = orderOf(a);
    const ob = orderOf(b);
    if (oa !== undefined && ob === undefined) return -1;
    if (oa === undefined && ob !== undefined) return 1;
    if (oa !== undefined && ob !== undefined && oa !== ob) return oa < ob ? -1 : 1;
    if (a.pdu.origin_server_ts !== b.pdu.origin_server_ts) return a.pdu.origin_server_ts - b.pdu.origin_server_ts;
    return (a.pdu.state_key ?? '') < (b.pdu.state_key ?? '') ? -1 : 1;
  });
}

function plainTopic(content: Record<string, unknown> | undefined): string | undefined {
  if (!content) return undefined;
  return typeof content.topic === 'string' ? content.topic : undefined;
}

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(s: string): Token | undefined {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Partial<Token>;
    if (typeof t.skip !== 'number' || typeof t.depth !== 'number' || typeof t.suggested !== 'boolean' || t.skip < 0) return undefined;
    return { skip: t.skip, depth: t.depth, suggested: t.suggested };
  } catch {
    return undefined;
  }
}
