// The room side of the Synapse-compatible admin API: list and inspect rooms, and delete
// (shut down and purge) them. Shapes follow Synapse's docs/admin_api/rooms.md.
import { isValidRoomId, serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { ClientEvent } from '../events/clientEvent.js';
import { toClientEvent } from '../events/clientEvent.js';
import { invalidParam, notFound } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { StoredEvent } from '../rooms/types.js';
import { Batch } from '../storage/batch.js';
import type { BlockedRoomsRepo } from '../storage/blockedRoomsRepo.js';
import { RoomPurge } from '../storage/roomPurge.js';
import type { AccountService } from '../users/accountService.js';
import type { DeviceManager } from '../users/devices.js';
import { BackgroundTasks, type Task } from './backgroundTasks.js';

export const ROOM_ORDERS = [
  'name', 'alphabetical', 'size', 'canonical_alias', 'joined_members', 'joined_local_members', 'version', 'creator',
  'encryption', 'federatable', 'public', 'join_rules', 'guest_access', 'history_visibility', 'state_events',
] as const;
export type RoomOrder = (typeof ROOM_ORDERS)[number];

/** Orders Synapse sorts largest first (before `dir`). */
const DESCENDING: ReadonlySet<string> = new Set(['joined_members', 'joined_local_members', 'version', 'state_events', 'federatable', 'public']);

export interface RoomListQuery {
  from: number;
  limit: number;
  orderBy: RoomOrder;
  dir: 'f' | 'b';
  searchTerm?: string;
  publicRooms?: boolean;
  emptyRooms?: boolean;
}

export interface DeleteOptions {
  newRoomUserId?: string;
  roomName?: string;
  message?: string;
  block: boolean;
  purge: boolean;
  forcePurge: boolean;
}

export interface ShutdownResult {
  kicked_users: string[];
  failed_to_kick_users: string[];
  local_aliases: string[];
  new_room_id: string | null;
}

export interface AdminRoomsDeps {
  rooms: Rooms;
  accounts: Pick<AccountService, 'register'> & { userExists(userId: string): Promise<boolean> };
  devices: Pick<DeviceManager, 'listDevices'>;
  blocked: BlockedRoomsRepo;
  serverName: string;
  onError: (err: unknown, what: string) => void;
}

// Synapse's defaults for the replacement room.
const DEFAULT_ROOM_NAME = 'Content Violation Notification';
const DEFAULT_MESSAGE = 'Sharing illegal content on this server is not permitted and rooms in violation will be blocked.';

export class AdminRooms {
  readonly deletions: BackgroundTasks<ShutdownResult>;
  private readonly purger: RoomPurge;

  constructor(private readonly deps: AdminRoomsDeps) {
    this.deletions = new BackgroundTasks(deps.onError);
    this.purger = new RoomPurge(deps.rooms.storage);
  }

  /** GET /_synapse/admin/v1/rooms. */
  async list(q: RoomListQuery): Promise<Record<string, unknown>> {
    const all = await this.deps.rooms.storage.rooms.all();
    const details = await Promise.all(all.map(({ record }) => this.details(record.roomId)));
    const term = q.searchTerm?.toLowerCase();
    const rows = details.filter((d) => {
      if (q.publicRooms !== undefined && d.public !== q.publicRooms) return false;
      if (q.emptyRooms !== undefined && (d.joined_members === 0) !== q.emptyRooms) return false;
      if (term === undefined) return true;
      const alias = typeof d.canonical_alias === 'string' ? d.canonical_alias.slice(1, d.canonical_alias.indexOf(':')) : '';
      return String(d.name ?? '').toLowerCase().includes(term) || alias.toLowerCase().includes(term) || d.room_id.includes(q.searchTerm!);
    });
    const field = q.orderBy === 'alphabetical' ? 'name' : q.orderBy === 'size' ? 'joined_members' : q.orderBy;
    const sign = (DESCENDING.has(field) ? -1 : 1) * (q.dir === 'b' ? -1 : 1);
    const keyOf = (d: Record<string, unknown>): string | number => {
      const v = d[field];
      return typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? v : typeof v === 'string' ? (field === 'version' ? Number(v) || 0 : v) : '';
    };
    rows.sort((a, b) => {
      const ka = keyOf(a);
      const kb = keyOf(b);
      return sign * (ka < kb ? -1 : ka > kb ? 1 : 0) || (a.room_id < b.room_id ? -1 : 1);
    });
    const page = rows.slice(q.from, q.from + q.limit).map(({ topic: _t, avatar: _a, joined_local_devices: _d, forgotten: _f, ...r }) => r);
    const out: Record<string, unknown> = { rooms: page, offset: q.from, total_rooms: rows.length };
    if (q.from + q.limit < rows.length) out.next_batch = q.from + page.length;
    if (q.from > 0) out.prev_batch = Math.max(0, q.from - q.limit);
    return out;
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}. */
  async details(roomId: string): Promise<Record<string, unknown> & { room_id: string }> {
    const { reader, storage } = this.deps.rooms;
    const version = await reader.roomVersion(roomId);
    if (version === undefined) throw notFound('Room not found');
    const state = await reader.currentState(roomId);
    const get = async (type: string) => (await reader.currentStateEvent(roomId, type, ''))?.pdu;
    const [create, name, topic, avatar, canonical, joinRules, guest, history, encryption] = await Promise.all(
      ['m.room.create', 'm.room.name', 'm.room.topic', 'm.room.avatar', 'm.room.canonical_alias', 'm.room.join_rules', 'm.room.guest_access', 'm.room.history_visibility', 'm.room.encryption'].map(get),
    );
    const members = await reader.members(roomId);
    const joined = members.filter((m) => m.member.membership === 'join');
    const local = (userId: string) => serverNameOf(userId) === this.deps.serverName;
    const joinedLocal = joined.filter((m) => local(m.userId));
    let devices = 0;
    for (const m of joinedLocal) devices += (await this.deps.devices.listDevices(m.userId)).length;
    const localMembers = members.filter((m) => local(m.userId));
    const str = (c: JsonObject | undefined, k: string) => (typeof c?.[k] === 'string' ? (c[k] as string) : null);
    const creator = typeof create?.content.creator === 'string' ? create.content.creator : (create?.sender ?? null);
    return {
      room_id: roomId,
      name: str(name?.content, 'name'),
      topic: str(topic?.content, 'topic'),
      avatar: str(avatar?.content, 'url'),
      canonical_alias: str(canonical?.content, 'alias'),
      joined_members: joined.length,
      joined_local_members: joinedLocal.length,
      joined_local_devices: devices,
      version,
      creator,
      encryption: str(encryption?.content, 'algorithm'),
      federatable: create?.content['m.federate'] !== false,
      public: await storage.published.isPublished(roomId),
      join_rules: str(joinRules?.content, 'join_rule'),
      guest_access: str(guest?.content, 'guest_access'),
      history_visibility: str(history?.content, 'history_visibility'),
      state_events: state.size,
      room_type: str(create?.content, 'type'),
      forgotten: localMembers.length > 0 && localMembers.every((m) => m.member.forgotten === true),
    };
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}/members: the joined members. */
  async members(roomId: string): Promise<{ members: string[]; total: number }> {
    if ((await this.deps.rooms.reader.roomVersion(roomId)) === undefined) throw notFound('Room not found');
    const members = (await this.deps.rooms.reader.members(roomId)).filter((m) => m.member.membership === 'join').map((m) => m.userId);
    return { members, total: members.length };
  }

  /** GET /_synapse/admin/v1/rooms/{roomId}/state. */
  async state(admin: Requester, roomId: string, type?: string): Promise<{ state: ClientEvent[] }> {
    const { reader } = this.deps.rooms;
    if ((await reader.roomVersion(roomId)) === undefined) throw notFound('Room not found');
    const ids = [...(await reader.currentState(roomId))].filter(([k]) => type === undefined || k.split('\0')[0] === type).map(([, id]) => id);
    const events = (await reader.getEvents(ids)).filter((e): e is StoredEvent => e !== undefined);
    const now = Date.now();
    return { state: events.map((e) => toClientEvent(e, admin, now)) };
  }

  /** DELETE /_synapse/admin/v2/rooms/{roomId}: the same work as v1, in the background. */
  async startDelete(admin: Requester, roomId: string, opts: DeleteOptions): Promise<Task<ShutdownResult>> {
    await this.checkDeletable(roomId, opts, true);
    return this.deletions.start(roomId, emptyResult(), async (task) => {
      await this.delete(admin, roomId, opts, task.result);
    });
  }

  /**
   * DELETE /_synapse/admin/v1/rooms/{roomId}: block, move local users out (into a new room if
   * asked), then purge. `result` is filled in as the work goes (v2's status shows it).
   */
  async delete(admin: Requester, roomId: string, opts: DeleteOptions, result: ShutdownResult = emptyResult()): Promise<ShutdownResult> {
    const known = await this.checkDeletable(roomId, opts, false);
    const { rooms } = this.deps;
    if (opts.block) await this.deps.blocked.set(roomId, { by: admin.userId, ts: Date.now() });
    if (!known) return result;

    let newRoomId: string | undefined;
    let newRoomOwner: Requester | undefined;
    if (opts.newRoomUserId !== undefined) {
      const owner = opts.newRoomUserId;
      // Synapse: the user need not exist yet; it is created for the purpose.
      if (!(await this.deps.accounts.userExists(owner))) await this.deps.accounts.register({ localpart: owner.slice(1, owner.indexOf(':')) });
      newRoomOwner = { userId: owner, deviceId: 'admin-shutdown', isAdmin: false };
      const created = await rooms.creator.createRoom(newRoomOwner, {
        preset: 'public_chat',
        name: opts.roomName ?? DEFAULT_ROOM_NAME,
        // Moved users may read, not speak (Synapse).
        power_level_content_override: { users_default: -10 },
      });
      newRoomId = created.room_id;
      result.new_room_id = newRoomId;
      await rooms.events.send(newRoomOwner, newRoomId, 'm.room.message', `shutdown-${Date.now()}`, {
        msgtype: 'm.text',
        body: opts.message ?? DEFAULT_MESSAGE,
      });
    }

    // Local users leave (as themselves, so the auth rules always allow it), as in Synapse.
    for (const { userId, member } of await rooms.reader.members(roomId)) {
      if (serverNameOf(userId) !== this.deps.serverName) continue;
      if (member.membership !== 'join' && member.membership !== 'invite' && member.membership !== 'knock') continue;
      try {
        await rooms.membership.leave(userId, roomId);
        if (member.membership === 'join') result.kicked_users.push(userId);
        if (newRoomId && newRoomOwner && member.membership === 'join') {
          await rooms.membership.invite(newRoomOwner.userId, newRoomId, userId);
          await rooms.membership.join(userId, newRoomId);
        }
      } catch (err) {
        this.deps.onError(err, `moving ${userId} out of ${roomId}`);
        result.failed_to_kick_users.push(userId);
      }
    }

    // Local aliases go with the users to the new room, or away.
    const shortRoom = await rooms.storage.ids.room(roomId);
    const aliases = shortRoom === undefined ? [] : await rooms.storage.aliases.ofRoom(shortRoom);
    result.local_aliases = aliases;
    if (aliases.length > 0 && shortRoom !== undefined) {
      const batch = new Batch();
      const newShort = newRoomId ? await rooms.storage.ids.room(newRoomId) : undefined;
      for (const alias of aliases) {
        rooms.storage.aliases.del(batch, alias, shortRoom);
        if (newRoomId && newShort !== undefined) rooms.storage.aliases.put(batch, alias, newShort, { roomId: newRoomId, creator: newRoomOwner!.userId });
      }
      await batch.commit(rooms.storage.db);
    }

    if (opts.purge) {
      const stillJoined = (await rooms.reader.members(roomId)).filter(
        (m) => m.member.membership === 'join' && serverNameOf(m.userId) === this.deps.serverName,
      );
      if (stillJoined.length > 0 && !opts.forcePurge) throw invalidParam('Users are still joined to this room');
      await rooms.writer.exclusive(roomId, async () => {
        await this.purger.purge(roomId);
        rooms.writer.forgetRoom(roomId);
      });
    }
    return result;
  }

  /** 400 for a malformed room ID or an unknown room that is not to be blocked; returns whether the room is known. */
  private async checkDeletable(roomId: string, opts: DeleteOptions, v2: boolean): Promise<boolean> {
    if (!isValidRoomId(roomId)) throw invalidParam(`${roomId} is not a valid room ID`);
    if (opts.newRoomUserId !== undefined && serverNameOf(opts.newRoomUserId) !== this.deps.serverName) {
      throw invalidParam('User must be our own: new_room_user_id');
    }
    const known = (await this.deps.rooms.reader.roomVersion(roomId)) !== undefined;
    // Only v1 may block a room this server does not know (Synapse).
    if (!known && (v2 || !opts.block)) throw invalidParam(`Room ${roomId} is unknown to this server`);
    return known;
  }
}

function emptyResult(): ShutdownResult {
  return { kicked_users: [], failed_to_kick_users: [], local_aliases: [], new_room_id: null };
}
