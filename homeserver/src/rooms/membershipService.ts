// Membership changes a local user asks for: join, invite, leave, kick, ban, unban,
// forget, plus the two ports the accounts service calls (leaveAllRooms on
// deactivation, profileChanged on a new displayname/avatar).
// Spec: client-server-api/_index.md "Room membership", "Joining rooms", "Leaving rooms",
// "Banning users in a room", "Events on Change of Profile Information".
import { toWire } from '@parley/federation/core/eventRefs';
import { isValidRoomAlias, isValidRoomId, serverNameOf } from '@parley/federation/core/ids';
import { powerLevelsOf, userPowerLevel } from '@parley/federation/core/auth/index';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu } from '@parley/federation/core/types';
import { forbidden, invalidParam, notFound, unknown } from '../http/errors.js';
import { Batch } from '../storage/batch.js';
import type { RoomStorage } from '../storage/roomStorage.js';
import type { RoomAliases } from './aliasService.js';
import type { ProfileLookup, RemoteInviter, RemoteJoiner, RemoteKnocker, RemoteLeaver } from './ports.js';
import type { RoomView, RoomWriter } from './roomWriter.js';
import { currentLookup } from './stateLookups.js';
import { sameJson } from '../util/sameJson.js';
import type { Membership, RoomReader, StoredEvent } from './types.js';

export interface MembershipDeps {
  writer: RoomWriter;
  reader: RoomReader;
  storage: RoomStorage;
  aliases: RoomAliases;
  profiles: ProfileLookup;
  serverName: string;
  /** Absent until federation: joining a room this server does not know is then 404. */
  remoteJoiner?: RemoteJoiner;
  /** Absent until federation: knocking on a room this server does not know is then 404. */
  remoteKnocker?: RemoteKnocker;
  /** Rejecting an invite to (or rescinding a knock on) a room this server is not in (federation). */
  remoteLeaver?: RemoteLeaver;
  /** Invites of other servers' users are countersigned by their server first (when enabled). */
  remoteInviter?: RemoteInviter;
  /** Reports failures of background work (leaveAllRooms, profileChanged). */
  onError?: (err: unknown, what: string) => void;
  /** Rooms blocked by a server admin (admin API delete room `block`): joins are refused. */
  blocked?: { isBlocked(roomId: string): Promise<boolean> };
}

interface Change {
  roomId: string;
  sender: string;
  target: string;
  membership: Membership;
  reason?: string;
  extra?: JsonObject;
  /** Checked inside the room's queue against the target's current member event. */
  precondition?: (current: StoredEvent | undefined) => void;
}

/** Throws to refuse `userId` leaving (or rejecting an invite to) `roomId`. */
export type LeaveGuard = (userId: string, roomId: string) => Promise<void>;

export class MembershipService {
  private leaveGuard: LeaveGuard | undefined;

  constructor(private readonly deps: MembershipDeps) {}

  async join(userId: string, roomIdOrAlias: string, opts: { reason?: string; servers?: string[] } = {}): Promise<{ roomId: string }> {
    let roomId = roomIdOrAlias;
    if (roomIdOrAlias.startsWith('#')) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw invalidParam('Invalid room alias');
      const local = serverNameOf(roomIdOrAlias) === this.deps.serverName ? await this.deps.storage.aliases.get(roomIdOrAlias) : undefined;
      if (!local) return this.joinRemote(userId, roomIdOrAlias, opts);
      roomId = local.roomId;
    } else if (!isValidRoomId(roomIdOrAlias)) {
      throw invalidParam('Invalid room ID or alias');
    }
    if (await this.deps.blocked?.isBlocked(roomId)) throw forbidden('This room has been blocked on this server');
    if ((await this.deps.reader.roomVersion(roomId)) === undefined) return this.joinRemote(userId, roomId, opts);
    const extra = await this.restrictedJoinAuthoriser(userId, roomId);
    await this.change({ roomId, sender: userId, target: userId, membership: 'join', reason: opts.reason, ...(extra ? { extra } : {}) });
    return { roomId };
  }

  /**
   * POST /knock/{roomIdOrAlias}: ask to be let into a room whose join rule is knock. A room
   * this server is not in is knocked on through a resident server (`servers`: via/server_name).
   */
  async knock(userId: string, roomIdOrAlias: string, opts: { reason?: string; servers?: string[] } = {}): Promise<{ roomId: string }> {
    let roomId = roomIdOrAlias;
    if (roomIdOrAlias.startsWith('#')) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw invalidParam('Invalid room alias');
      const local = serverNameOf(roomIdOrAlias) === this.deps.serverName ? await this.deps.storage.aliases.get(roomIdOrAlias) : undefined;
      if (!local) return this.knockRemote(userId, roomIdOrAlias, opts);
      roomId = local.roomId;
    } else if (!isValidRoomId(roomIdOrAlias)) {
      throw invalidParam('Invalid room ID or alias');
    }
    if ((await this.deps.reader.roomVersion(roomId)) === undefined) return this.knockRemote(userId, roomId, opts);
    // The auth rules decide: knock join rule, not banned, not already in the room.
    await this.change({ roomId, sender: userId, target: userId, membership: 'knock', reason: opts.reason });
    return { roomId };
  }

  /**
   * Restricted rooms (rooms/v8.md+; client-server-api "Restricted rooms"): a user who is not
   * invited may join if they are in one of the allowed rooms; the join then names a local
   * member who may invite (join_authorised_via_users_server), which the auth rules check.
   */
  private async restrictedJoinAuthoriser(userId: string, roomId: string): Promise<JsonObject | undefined> {
    const { reader } = this.deps;
    const jr = await reader.currentStateEvent(roomId, 'm.room.join_rules', '');
    const rule = jr?.pdu.content.join_rule;
    if (rule !== 'restricted' && rule !== 'knock_restricted') return undefined;
    const mine = (await reader.membership(roomId, userId))?.membership;
    if (mine === 'join' || mine === 'invite') return undefined;
    const allow = Array.isArray(jr?.pdu.content.allow) ? jr.pdu.content.allow : [];
    const allowedRooms = allow.flatMap((a) =>
      a && typeof a === 'object' && !Array.isArray(a) && a.type === 'm.room_membership' && typeof a.room_id === 'string' ? [a.room_id] : [],
    );
    let allowed = false;
    for (const r of allowedRooms) if ((await reader.membership(r, userId))?.membership === 'join') allowed = true;
    if (!allowed) return undefined;
    const version = await reader.roomVersion(roomId);
    const rules = version === undefined ? undefined : roomVersion(version);
    if (!rules) return undefined;
    const lookup = await currentLookup(reader, roomId, [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
    ]);
    const inviteLevel = powerLevelsOf(lookup, rules).levels.invite;
    const candidates = (await reader.members(roomId))
      .filter((m) => m.member.membership === 'join' && serverNameOf(m.userId) === this.deps.serverName)
      .map((m) => ({ userId: m.userId, level: userPowerLevel(m.userId, lookup, rules) }))
      .filter((c) => c.level >= inviteLevel)
      .sort((a, b) => b.level - a.level);
    return candidates.length === 0 ? undefined : { join_authorised_via_users_server: candidates[0].userId };
  }

  invite(sender: string, roomId: string, target: string, reason?: string, extra?: JsonObject): Promise<string> {
    if (this.invitesOverFederation(target)) return this.inviteRemote(sender, roomId, target, reason, extra);
    return this.change({ roomId, sender, target, membership: 'invite', reason, ...(extra ? { extra } : {}) });
  }

  /** Whether inviting `target` needs their server's countersignature (another server's user, federation on). */
  invitesOverFederation(target: string): boolean {
    return this.deps.remoteInviter?.enabled === true && serverNameOf(target) !== this.deps.serverName;
  }

  /**
   * Spec: server-server-api.md "Inviting to a room": the invite is built and authorised here,
   * countersigned by the invitee's server (which may refuse), then written and sent on.
   */
  private async inviteRemote(sender: string, roomId: string, target: string, reason?: string, extra?: JsonObject): Promise<string> {
    const version = await this.deps.reader.roomVersion(roomId);
    if (version === undefined) throw notFound('Unknown room');
    const content = await this.memberContent(target, 'invite', reason, extra);
    const built = await this.deps.writer.prepare(roomId, { type: 'm.room.member', sender, stateKey: target, content });
    const signed = await this.deps.remoteInviter!.invite(version, built, await this.inviteRoomState(roomId, sender));
    const res = await this.deps.writer.append(roomId, async () => [signed]);
    return res.eventIds[0];
  }

  /** The state that lets the invitee's server show the room (invites-v2.yaml: must include the create event). */
  private async inviteRoomState(roomId: string, sender: string): Promise<Pdu[]> {
    const keys: Array<[string, string]> = [
      ['m.room.create', ''],
      ['m.room.join_rules', ''],
      ['m.room.name', ''],
      ['m.room.avatar', ''],
      ['m.room.canonical_alias', ''],
      ['m.room.encryption', ''],
      ['m.room.topic', ''],
      ['m.room.member', sender],
    ];
    const out: Pdu[] = [];
    for (const [type, stateKey] of keys) {
      const e = await this.deps.reader.currentStateEvent(roomId, type, stateKey);
      if (!e) continue;
      const { unsigned: _u, ...pdu } = e.pdu as Pdu & { unsigned?: unknown };
      out.push(toWire(pdu as Pdu, e.refHashes));
    }
    return out;
  }

  /** A user leaving, or rejecting an invite; the leave guard (if any) may refuse it. */
  async leave(userId: string, roomId: string, reason?: string): Promise<string> {
    await this.leaveGuard?.(userId, roomId);
    // Spec: server-server-api.md "Leaving Rooms (Rejecting Invites)": a room known here only by
    // the user's invite or knock is left through a server that is in it.
    if (this.deps.remoteLeaver && (await this.deps.reader.roomVersion(roomId)) === undefined) {
      const mine = await this.deps.reader.membership(roomId, userId);
      if (mine?.membership === 'invite' || mine?.membership === 'knock') {
        const content = await this.memberContent(userId, 'leave', reason);
        return (await this.deps.remoteLeaver.leaveRemote(userId, roomId, mine.eventId, content)).eventId;
      }
    }
    return this.change({ roomId, sender: userId, target: userId, membership: 'leave', reason });
  }

  /** Late-bound: refuses some leaves, e.g. rejecting the server notices invite (serverNotices/). */
  useLeaveGuard(guard: LeaveGuard): void {
    this.leaveGuard = guard;
  }

  kick(sender: string, roomId: string, target: string, reason?: string): Promise<string> {
    return this.change({ roomId, sender, target, membership: 'leave', reason });
  }

  ban(sender: string, roomId: string, target: string, reason?: string): Promise<string> {
    return this.change({ roomId, sender, target, membership: 'ban', reason });
  }

  unban(sender: string, roomId: string, target: string, reason?: string): Promise<string> {
    return this.change({
      roomId,
      sender,
      target,
      membership: 'leave',
      reason,
      precondition: (current) => {
        if (current?.pdu.content.membership !== 'ban') throw forbidden(`${target} is not banned from this room`);
      },
    });
  }

  /** Invites made by createRoom carry is_direct; kept here so all member content is built alike. */
  async memberContent(target: string, membership: Membership, reason?: string, extra?: JsonObject): Promise<JsonObject> {
    const content: JsonObject = { membership };
    // Profiles are included for memberships that show the user in the room (as Synapse does).
    if ((membership === 'join' || membership === 'invite' || membership === 'knock') && serverNameOf(target) === this.deps.serverName) {
      const p = await this.deps.profiles.profile(target);
      if (p.displayname !== undefined) content.displayname = p.displayname;
      if (p.avatar_url !== undefined) content.avatar_url = p.avatar_url;
    }
    if (reason !== undefined) content.reason = reason;
    return { ...content, ...extra };
  }

  /** Forget a room the user has left: it disappears from their sync until they return. */
  async forget(userId: string, roomId: string): Promise<void> {
    const { storage, writer } = this.deps;
    const shortRoom = await storage.ids.room(roomId);
    if (shortRoom === undefined) return;
    await writer.exclusive(roomId, async () => {
      const current = await storage.members.get(shortRoom, userId);
      if (!current || current.forgotten) return;
      // Synapse answers 400 M_UNKNOWN while the user is still in the room.
      if (current.membership !== 'leave' && current.membership !== 'ban') throw unknown(`User ${userId} is in room ${roomId}`);
      const batch = new Batch();
      storage.members.put(batch, shortRoom, userId, { ...current, forgotten: true });
      await batch.commit(storage.db);
    });
  }

  /** Port for the accounts service: leave (or reject invites to) every room, on deactivation. */
  async leaveAllRooms(userId: string): Promise<void> {
    for (const { roomId, member } of await this.deps.reader.roomsOfUser(userId)) {
      if (member.membership === 'leave' || member.membership === 'ban') continue;
      // Not through leave(): a deactivated account leaves everything, whatever the leave guard says.
      await this.change({ roomId, sender: userId, target: userId, membership: 'leave' }).catch((err: unknown) =>
        this.deps.onError?.(err, `leave ${roomId} for ${userId}`),
      );
    }
  }

  /** Port for the accounts service: send updated member events into every joined room. */
  async profileChanged(userId: string): Promise<void> {
    for (const { roomId, member } of await this.deps.reader.roomsOfUser(userId)) {
      if (member.membership !== 'join') continue;
      await this.change({ roomId, sender: userId, target: userId, membership: 'join' }).catch((err: unknown) =>
        this.deps.onError?.(err, `profile update in ${roomId} for ${userId}`),
      );
    }
  }

  private async joinRemote(userId: string, roomIdOrAlias: string, opts: { reason?: string; servers?: string[] }): Promise<{ roomId: string }> {
    if (!this.deps.remoteJoiner) throw notFound(`Room ${roomIdOrAlias} is not known to this server`);
    const content = await this.memberContent(userId, 'join', opts.reason);
    const servers = [...(opts.servers ?? [])];
    // Accepting an invite to a room this server is not in: the inviter's server is resident.
    const invite = isValidRoomId(roomIdOrAlias) ? await this.deps.reader.membership(roomIdOrAlias, userId) : undefined;
    if (invite?.membership === 'invite') {
      const inviter = serverNameOf((await this.deps.reader.getEvent(invite.eventId))?.pdu.sender ?? '');
      if (inviter !== undefined && !servers.includes(inviter)) servers.push(inviter);
    }
    return this.deps.remoteJoiner.joinRemote(userId, roomIdOrAlias, servers, content);
  }

  // Spec: server-server-api.md "Knocking upon a room".
  private async knockRemote(userId: string, roomIdOrAlias: string, opts: { reason?: string; servers?: string[] }): Promise<{ roomId: string }> {
    if (!this.deps.remoteKnocker) throw notFound(`Room ${roomIdOrAlias} is not known to this server`);
    const content = await this.memberContent(userId, 'knock', opts.reason);
    return this.deps.remoteKnocker.knockRemote(userId, roomIdOrAlias, opts.servers ?? [], content);
  }

  /** Write the membership change, unless the target's member event already says exactly that. */
  private async change(c: Change): Promise<string> {
    const content = await this.memberContent(c.target, c.membership, c.reason, c.extra);
    const res = await this.deps.writer.append(c.roomId, async (view: RoomView) => {
      const current = await view.stateEvent('m.room.member', c.target);
      c.precondition?.(current);
      if (current && current.pdu.sender === c.sender && sameJson(current.pdu.content, content)) return { existing: current.eventId };
      return [{ type: 'm.room.member', sender: c.sender, stateKey: c.target, content }];
    });
    return res.eventIds[0];
  }
}
