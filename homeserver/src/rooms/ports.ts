// Narrow interfaces the room service uses from, or offers to, other areas.
import type { Pdu, RoomEvent } from '@parley/federation/core/types';

/** Reads a local user's profile, for the displayname/avatar_url of their membership events. */
export interface ProfileLookup {
  profile(userId: string): Promise<{ displayname?: string; avatar_url?: string }>;
}

/**
 * Joins a room this server is not in, over federation. Absent until federation exists:
 * joining an unknown room is then 404 M_NOT_FOUND.
 */
export interface RemoteJoiner {
  /** Make the join via one of `servers`; resolves with the room ID once the join is stored locally. */
  joinRemote(userId: string, roomIdOrAlias: string, servers: string[], content: Record<string, unknown>): Promise<{ roomId: string }>;
}

/**
 * Knocks on a room this server is not in, over federation (make_knock/send_knock through a
 * resident). Absent until federation exists: knocking on an unknown room is then 404.
 */
export interface RemoteKnocker {
  /** Knock via one of `servers`; resolves once the knock is stored locally (shown in /sync rooms.knock). */
  knockRemote(userId: string, roomIdOrAlias: string, servers: string[], content: Record<string, unknown>): Promise<{ roomId: string }>;
}

/**
 * Rejects an invite to (or rescinds a knock on) a room this server is not in, over federation
 * (make_leave/send_leave through the inviting or a resident server). Absent until federation.
 */
export interface RemoteLeaver {
  /** Resolves once the leave is stored locally (shown in /sync rooms.leave); `membershipEventId` is the invite or knock. */
  leaveRemote(userId: string, roomId: string, membershipEventId: string, content: Record<string, unknown>): Promise<{ eventId: string }>;
}

/** Resolves room aliases of other servers over federation (query/directory). */
export interface RemoteAliasResolver {
  /** Undefined when the alias's server does not know it. */
  resolve(alias: string): Promise<{ room_id: string; servers: string[] } | undefined>;
}

/**
 * Invites a user of another server: their server must countersign the invite before it is
 * written (server-server-api.md "Inviting to a room"). Absent until federation exists:
 * inviting a remote user then writes the invite locally only.
 */
export interface RemoteInviter {
  /** The invite as signed by the invitee's server too; throws a MatrixError if it refuses. */
  invite(roomVersion: string, event: RoomEvent, inviteRoomState: Pdu[]): Promise<RoomEvent>;
  /** Whether invites of remote users go over federation (false: written locally only). */
  readonly enabled: boolean;
}
