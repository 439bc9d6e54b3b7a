// RoomDirectoryPort: our published rooms (the client directory's own listing) and space
// summaries for other servers. A room is described to a server that could peek or join it:
// world-readable history, a public or knock join rule, or a joined member of that server
// (Synapse's _is_remote_room_accessible, without the restricted-rule membership lookups).
// Spec: server-server-api.md "Published Room Directory", "Spaces"; space_hierarchy.yaml.
import { FederationError, fedNotFound } from '@parley/federation/api/errors';
import { serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { RoomDirectoryPort } from '@parley/federation/ports';
import type { PublicRoomsDirectory } from '../../directory/publicRooms.js';
import { MatrixError } from '../../http/errors.js';
import type { SpaceHierarchy } from '../../messaging/hierarchy.js';
import type { RoomReader } from '../../rooms/types.js';
import { serverAllowedByAcl } from '@parley/federation/core/serverAcl';

const OPEN_JOIN_RULES = new Set(['public', 'knock', 'knock_restricted']);

export interface RoomDirectoryDeps {
  publicRooms: Pick<PublicRoomsDirectory, 'local'>;
  hierarchy: Pick<SpaceHierarchy, 'roomSummary'>;
  reader: Pick<RoomReader, 'roomVersion' | 'currentStateEvent' | 'members'>;
}

export class RoomDirectoryAdapter implements RoomDirectoryPort {
  constructor(private readonly d: RoomDirectoryDeps) {}

  async publicRooms(q: Parameters<RoomDirectoryPort['publicRooms']>[0]): Promise<JsonObject> {
    try {
      const res = await this.d.publicRooms.local({
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.filter ? { filter: q.filter } : {}),
      });
      return res as unknown as JsonObject;
    } catch (err) {
      // A bad `since` token and the like: the directory's own client-API error.
      if (err instanceof MatrixError) throw new FederationError(err.status, err.errcode, err.message);
      throw err;
    }
  }

  async hierarchy(origin: string, roomId: string, suggestedOnly: boolean): Promise<JsonObject> {
    if (!(await this.accessible(origin, roomId))) throw fedNotFound('Unknown room');
    const root = await this.d.hierarchy.roomSummary(roomId, suggestedOnly);
    const children: JsonObject[] = [];
    const inaccessible: string[] = [];
    for (const child of root.children) {
      if ((await this.d.reader.roomVersion(child)) === undefined) continue; // nothing to tell: left out
      if (!(await this.accessible(origin, child))) {
        inaccessible.push(child);
        continue;
      }
      const { children_state: _c, ...summary } = (await this.d.hierarchy.roomSummary(child, suggestedOnly)).summary;
      children.push(summary as JsonObject);
    }
    return { room: root.summary as JsonObject, children, inaccessible_children: inaccessible };
  }

  private async accessible(origin: string, roomId: string): Promise<boolean> {
    if ((await this.d.reader.roomVersion(roomId)) === undefined) return false;
    const content = async (type: string) => (await this.d.reader.currentStateEvent(roomId, type, ''))?.pdu.content;
    const acl = await content('m.room.server_acl');
    if (acl && !serverAllowedByAcl(origin, acl)) return false;
    if ((await content('m.room.history_visibility'))?.history_visibility === 'world_readable') return true;
    const rule = (await content('m.room.join_rules'))?.join_rule;
    if (typeof rule === 'string' && OPEN_JOIN_RULES.has(rule)) return true;
    return (await this.d.reader.members(roomId)).some((m) => m.member.membership === 'join' && serverNameOf(m.userId) === origin);
  }
}
