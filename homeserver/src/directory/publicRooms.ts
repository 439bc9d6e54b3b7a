// The published room directory: GET/POST /publicRooms and /directory/list/room/{roomId}.
// Spec: data/api/client-server/list_public_rooms.yaml, definitions/public_rooms_chunk.yaml.
// Entries are read from the rooms' current state and cached per room; any state event in
// a room drops its entry. Order: most joined members first, then room ID (the stable
// order the spec recommends); pagination tokens name the position of the edge entry, so
// pages stay consistent while rooms come and go. As Synapse, only rooms that people can
// join or read are listed (join rule public/knock, or world_readable history).
import { roomVersion } from '@parley/federation/core/roomVersions';
import { canSendEvent } from '@parley/federation/core/auth/index';
import type { RoomOutputs } from '../events/outputs.js';
import { forbidden, invalidParam, MatrixError, notFound } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import { currentLookup } from '../rooms/stateLookups.js';
import type { RoomReader } from '../rooms/types.js';

export interface PublicRoomsChunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  join_rule?: string;
  room_type?: string;
}

export interface PublicRoomsQuery {
  limit?: number;
  since?: string;
  filter?: { generic_search_term?: string; room_types?: Array<string | null> };
  include_all_networks?: boolean;
  third_party_instance_id?: string;
}

export interface PublicRoomsResponse {
  chunk: PublicRoomsChunk[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate?: number;
}

/** Another server's directory, over federation (GET/POST /_matrix/federation/v1/publicRooms). Not wired yet. */
export interface RemotePublicRooms {
  query(server: string, q: PublicRoomsQuery): Promise<PublicRoomsResponse>;
}

export interface PublishedRooms {
  isPublished(roomId: string): Promise<boolean>;
  all(): Promise<string[]>;
  set(roomId: string, published: boolean): Promise<void>;
}

export interface PublicRoomsDeps {
  published: PublishedRooms;
  reader: Pick<RoomReader, 'roomVersion' | 'currentStateEvent' | 'members' | 'membership'>;
  serverName: string;
  remote?: RemotePublicRooms;
}

interface Position {
  n: number;
  r: string;
}

const LISTED_JOIN_RULES = new Set(['public', 'knock', 'knock_restricted']);

export class PublicRoomsDirectory {
  private readonly cache = new Map<string, PublicRoomsChunk>();

  constructor(private readonly deps: PublicRoomsDeps) {}

  /** Drop a room's cached entry whenever its state changes (members included). */
  attach(outputs: RoomOutputs): void {
    outputs.subscribe((out) => {
      if (out.kind === 'new_event' && out.event.pdu.state_key !== undefined) this.cache.delete(out.event.roomId);
      if (out.kind === 'redaction') this.cache.delete(out.roomId);
    });
  }

  async list(server: string | undefined, q: PublicRoomsQuery): Promise<PublicRoomsResponse> {
    if (server !== undefined && server !== this.deps.serverName) {
      if (!this.deps.remote) throw new MatrixError(502, 'M_UNKNOWN', `Cannot fetch the room directory of ${server}`);
      return this.deps.remote.query(server, q);
    }
    return this.local(q);
  }

  /** This server's directory (also what federation serves to other servers). */
  async local(q: PublicRoomsQuery): Promise<PublicRoomsResponse> {
    const term = q.filter?.generic_search_term?.trim().toLowerCase();
    const types = q.filter?.room_types;
    const entries: PublicRoomsChunk[] = [];
    for (const roomId of await this.deps.published.all()) {
      const c = await this.chunk(roomId);
      if (!c || !(LISTED_JOIN_RULES.has(c.join_rule ?? '') || c.world_readable)) continue;
      if (types && types.length > 0 && !types.includes(c.room_type ?? null)) continue;
      if (term && ![c.name, c.topic, c.canonical_alias, c.room_id].some((s) => s?.toLowerCase().includes(term))) continue;
      entries.push(c);
    }
    entries.sort(compare);
    const total = entries.length;
    const limit = q.limit !== undefined && q.limit > 0 ? q.limit : total;
    let from = 0;
    let to = total;
    if (q.since) {
      const { dir, pos } = decodeSince(q.since);
      if (dir === 'f') {
        from = entries.findIndex((e) => compare(e, pos) > 0);
        if (from < 0) from = total;
        to = Math.min(total, from + limit);
      } else {
        to = entries.findIndex((e) => compare(e, pos) >= 0);
        if (to < 0) to = total;
        from = Math.max(0, to - limit);
      }
    } else {
      to = Math.min(total, limit);
    }
    const chunk = entries.slice(from, to);
    const res: PublicRoomsResponse = { chunk, total_room_count_estimate: total };
    if (to < total && chunk.length > 0) res.next_batch = encodeSince('f', chunk[chunk.length - 1]);
    if (from > 0 && chunk.length > 0) res.prev_batch = encodeSince('b', chunk[0]);
    return res;
  }

  async visibility(roomId: string): Promise<'public' | 'private'> {
    if ((await this.deps.reader.roomVersion(roomId)) === undefined) throw notFound('Room not found');
    return (await this.deps.published.isPublished(roomId)) ? 'public' : 'private';
  }

  /** As Synapse: server admins, or joined members with the power to set the canonical alias. */
  async setVisibility(requester: Requester, roomId: string, visibility: 'public' | 'private'): Promise<void> {
    const version = await this.deps.reader.roomVersion(roomId);
    if (version === undefined) throw notFound('Room not found');
    if (!requester.isAdmin) {
      const member = await this.deps.reader.membership(roomId, requester.userId);
      if (member?.membership !== 'join') throw forbidden('You are not in the room');
      const rules = roomVersion(version);
      const lookup = await currentLookup(this.deps.reader as RoomReader, roomId, [
        ['m.room.create', ''],
        ['m.room.power_levels', ''],
      ]);
      if (!rules || !canSendEvent(requester.userId, 'm.room.canonical_alias', true, lookup, rules)) {
        throw forbidden('You do not have the power to change the room directory visibility of this room');
      }
    }
    await this.deps.published.set(roomId, visibility === 'public');
  }

  private async chunk(roomId: string): Promise<PublicRoomsChunk | undefined> {
    const cached = this.cache.get(roomId);
    if (cached) return cached;
    const { reader } = this.deps;
    if ((await reader.roomVersion(roomId)) === undefined) return undefined;
    const state = async (type: string) => (await reader.currentStateEvent(roomId, type, ''))?.pdu.content;
    const [create, name, topic, alias, avatar, joinRules, hv, guest, members] = await Promise.all([
      state('m.room.create'),
      state('m.room.name'),
      state('m.room.topic'),
      state('m.room.canonical_alias'),
      state('m.room.avatar'),
      state('m.room.join_rules'),
      state('m.room.history_visibility'),
      state('m.room.guest_access'),
      reader.members(roomId),
    ]);
    const c: PublicRoomsChunk = {
      room_id: roomId,
      num_joined_members: members.filter((m) => m.member.membership === 'join').length,
      world_readable: hv?.history_visibility === 'world_readable',
      guest_can_join: guest?.guest_access === 'can_join',
    };
    if (typeof name?.name === 'string' && name.name !== '') c.name = name.name;
    if (typeof topic?.topic === 'string' && topic.topic !== '') c.topic = topic.topic;
    if (typeof alias?.alias === 'string') c.canonical_alias = alias.alias;
    if (typeof avatar?.url === 'string') c.avatar_url = avatar.url;
    if (typeof joinRules?.join_rule === 'string') c.join_rule = joinRules.join_rule;
    if (typeof create?.type === 'string') c.room_type = create.type;
    this.cache.set(roomId, c);
    return c;
  }
}

/** Most members first, then room ID. */
function compare(a: { num_joined_members: number; room_id: string } | PublicRoomsChunk, b: Position | PublicRoomsChunk): number {
  const bn = 'n' in b ? b.n : b.num_joined_members;
  const br = 'r' in b ? b.r : b.room_id;
  return bn - a.num_joined_members || (a.room_id < br ? -1 : a.room_id > br ? 1 : 0);
}

function encodeSince(dir: 'f' | 'b', c: PublicRoomsChunk): string {
  return dir + Buffer.from(JSON.stringify({ n: c.num_joined_members, r: c.room_id } satisfies Position), 'utf8').toString('base64url');
}

function decodeSince(token: string): { dir: 'f' | 'b'; pos: Position } {
  const dir = token[0];
  try {
    const pos = JSON.parse(Buffer.from(token.slice(1), 'base64url').toString('utf8')) as Position;
    if ((dir === 'f' || dir === 'b') && typeof pos.n === 'number' && typeof pos.r === 'string') return { dir, pos };
  } catch {
    // fall through
  }
  throw invalidParam('Invalid pagination token');
}
