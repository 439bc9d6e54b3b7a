// Who may ask about a room: a server the room's ACL allows, with a joined user in it.
// Spec: server-server-api.md "Server Access Control Lists (ACLs)" (403 M_FORBIDDEN);
// Synapse answers state/backfill/event requests only for servers in the room.
import { fedForbidden, fedNotFound } from '@parley/federation/api/errors';
import { serverNameOf } from '@parley/federation/core/ids';
import { serverAllowedByAcl } from '@parley/federation/core/serverAcl';
import type { RoomReader } from '../../rooms/types.js';

export type AccessReader = Pick<RoomReader, 'roomVersion' | 'currentStateEvent' | 'members'>;

/** 404 for an unknown room, 403 when the ACL denies `origin`; returns the room version. */
export async function assertAclAllows(reader: AccessReader, origin: string, roomId: string): Promise<string> {
  const version = await reader.roomVersion(roomId);
  if (version === undefined) throw fedNotFound('Unknown room');
  const acl = await reader.currentStateEvent(roomId, 'm.room.server_acl', '');
  if (acl && !serverAllowedByAcl(origin, acl.pdu.content)) throw fedForbidden('Server is denied by the room ACL');
  return version;
}

/** As assertAclAllows, and `origin` must have a joined user in the room now. */
export async function assertServerInRoom(reader: AccessReader, origin: string, roomId: string): Promise<string> {
  const version = await assertAclAllows(reader, origin, roomId);
  const members = await reader.members(roomId);
  if (!members.some((m) => m.member.membership === 'join' && serverNameOf(m.userId) === origin)) {
    throw fedForbidden('Server is not in the room');
  }
  return version;
}
