// Where to send make_join / make_knock for a room we are not in: the servers the client
// named, those the alias resolves to, and (before room version 12) the room ID's server.
import { isValidRoomAlias, serverNameOf } from '@parley/federation/core/ids';
import { notFound } from '../../http/errors.js';
import type { RemoteDirectory } from './remoteDirectory.js';

export async function handshakeTargets(
  roomIdOrAlias: string,
  servers: string[],
  directory: RemoteDirectory,
  ourServerName: string,
  purpose: string,
): Promise<{ roomId: string; tryServers: string[] }> {
  let roomId = roomIdOrAlias;
  const candidates = [...servers];
  if (isValidRoomAlias(roomIdOrAlias)) {
    const resolved = await directory.resolve(roomIdOrAlias);
    if (resolved === undefined) throw notFound(`Room alias ${roomIdOrAlias} not found`);
    roomId = resolved.room_id;
    candidates.push(...resolved.servers);
  }
  // Before room version 12 the room ID names the server that created the room.
  const roomServer = serverNameOf(roomId);
  if (roomServer !== undefined) candidates.push(roomServer);
  const tryServers = [...new Set(candidates)].filter((s) => s !== ourServerName);
  if (tryServers.length === 0) throw notFound(`No known servers to ${purpose} ${roomIdOrAlias} through`);
  return { roomId, tryServers };
}
