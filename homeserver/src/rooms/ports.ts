// Narrow interfaces the room service uses from, or offers to, other areas.

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

/** Resolves room aliases of other servers over federation (query/directory). */
export interface RemoteAliasResolver {
  /** Undefined when the alias's server does not know it. */
  resolve(alias: string): Promise<{ room_id: string; servers: string[] } | undefined>;
}
