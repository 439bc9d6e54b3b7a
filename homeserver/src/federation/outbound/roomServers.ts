// Which other servers must hear about a local user's own state (device lists, presence):
// every server with a user joined to a room the user is joined to.
import type { RoomReader } from '../../rooms/types.js';

export function serversSharingRoomWith(
  reader: Pick<RoomReader, 'roomsOfUser'>,
  joinedServers: (roomId: string) => Promise<string[]>,
): (userId: string) => Promise<string[]> {
  return async (userId) => {
    const out = new Set<string>();
    for (const r of await reader.roomsOfUser(userId)) {
      if (r.member.membership !== 'join') continue;
      for (const s of await joinedServers(r.roomId)) out.add(s);
    }
    return [...out];
  };
}
