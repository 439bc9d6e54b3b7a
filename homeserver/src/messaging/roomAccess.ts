// Who may look into a room without being in it, shared by /threads-like reads,
// /timestamp_to_event and /hierarchy. Spec: client-server-api space_hierarchy.yaml
// (the list of conditions for returning a room); history_visibility.md (world_readable).
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { RoomReader } from '../rooms/types.js';

type Reader = Pick<RoomReader, 'membership' | 'currentStateEvent' | 'roomVersion'>;

/** Joined, or a departed member (up to their departure), or a world_readable room. */
export async function mayReadRoom(reader: Reader, userId: string, roomId: string): Promise<boolean> {
  const m = await reader.membership(roomId, userId);
  if (m?.membership === 'join') return true;
  if ((m?.membership === 'leave' || m?.membership === 'ban') && !m.forgotten) return true;
  return isWorldReadable(reader, roomId);
}

export async function isWorldReadable(reader: Reader, roomId: string): Promise<boolean> {
  const hv = await reader.currentStateEvent(roomId, 'm.room.history_visibility', '');
  return hv?.pdu.content.history_visibility === 'world_readable';
}

/**
 * space_hierarchy.yaml: the user is a member, or may join (invited, public, restricted and
 * in an allowed room), or may knock, or the room is world_readable.
 */
export async function mayPreviewRoom(reader: Reader, userId: string, roomId: string): Promise<boolean> {
  const version = await reader.roomVersion(roomId);
  const rules = version === undefined ? undefined : roomVersion(version);
  if (!rules) return false;
  const m = (await reader.membership(roomId, userId))?.membership;
  if (m === 'join' || m === 'invite') return true;
  if (m === 'ban') return false;
  const jr = await reader.currentStateEvent(roomId, 'm.room.join_rules', '');
  const rule = jr?.pdu.content.join_rule;
  if (rule === 'public') return true;
  if ((rule === 'knock' && rules.knocking) || (rule === 'knock_restricted' && rules.knockRestrictedJoins)) return true;
  if ((rule === 'restricted' && rules.restrictedJoins) || (rule === 'knock_restricted' && rules.knockRestrictedJoins)) {
    for (const id of allowedRoomIds(jr?.pdu.content.allow)) {
      if ((await reader.membership(id, userId))?.membership === 'join') return true;
    }
  }
  return isWorldReadable(reader, roomId);
}

/** The m.room_membership entries of a restricted join rule's `allow`. */
export function allowedRoomIds(allow: unknown): string[] {
  if (!Array.isArray(allow)) return [];
  return allow.flatMap((a: unknown) => {
    if (typeof a !== 'object' || a === null) return [];
    const { type, room_id } = a as Record<string, unknown>;
    return type === 'm.room_membership' && typeof room_id === 'string' ? [room_id] : [];
  });
}
