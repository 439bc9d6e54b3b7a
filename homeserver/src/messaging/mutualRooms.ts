// GET /mutual_rooms: the rooms both users are joined to. Spec: mutual_rooms.yaml (an
// invalid user ID gives an empty list); asking about yourself is refused as in Synapse.
import { isValidUserId } from '@parley/federation/core/ids';
import { MatrixError } from '../http/errors.js';
import type { RoomReader } from '../rooms/types.js';

export async function mutualRooms(reader: Pick<RoomReader, 'roomsOfUser'>, requester: string, other: string): Promise<{ joined: string[]; count: number }> {
  if (other === requester) throw new MatrixError(422, 'M_INVALID_PARAM', 'You cannot request a list of shared rooms with yourself');
  if (!isValidUserId(other)) return { joined: [], count: 0 };
  const [mine, theirs] = await Promise.all([reader.roomsOfUser(requester), reader.roomsOfUser(other)]);
  const theirJoined = new Set(theirs.filter((r) => r.member.membership === 'join').map((r) => r.roomId));
  const joined = mine.filter((r) => r.member.membership === 'join' && theirJoined.has(r.roomId)).map((r) => r.roomId).sort();
  return { joined, count: joined.length };
}
