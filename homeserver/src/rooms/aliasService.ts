// Local room aliases (the room directory's alias half).
// Spec: client-server-api/_index.md "Room aliases" (directory.yaml). Only aliases on
// this server are kept; resolving a remote alias needs federation (404 until then).
import { canSendEvent } from '@parley/federation/core/auth/index';
import { isValidRoomAlias, isValidRoomId, serverNameOf } from '@parley/federation/core/ids';
import { roomVersion } from '@parley/federation/core/roomVersions';
import { aliasExists, forbidden, invalidParam, notFound, type MatrixError } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import { Batch } from '../storage/batch.js';
import type { RoomStorage } from '../storage/roomStorage.js';
import { currentLookup } from './stateLookups.js';
import type { RemoteAliasResolver } from './ports.js';
import type { RoomReader } from './types.js';

export interface AliasDeps {
  storage: RoomStorage;
  reader: RoomReader;
  serverName: string;
  /** Aliases of other servers (federation); without it they are 404. */
  remote?: RemoteAliasResolver;
}

export class RoomAliases {
  /** Aliases being written right now, so two concurrent claims cannot both succeed. */
  private readonly claimed = new Set<string>();

  constructor(private readonly deps: AliasDeps) {}

  /** `#localpart:server` for createRoom's room_alias_name; 400 if it makes no valid alias. */
  localAlias(localpart: string): string {
    const alias = `#${localpart}:${this.deps.serverName}`;
    if (localpart === '' || /[:\s]/.test(localpart) || !isValidRoomAlias(alias)) {
      throw invalidParam(`Invalid room_alias_name: ${JSON.stringify(localpart)}`);
    }
    return alias;
  }

  /** Reserve a free alias until the returned release is called; `taken` builds the error otherwise. */
  async claim(alias: string, taken: () => MatrixError): Promise<() => void> {
    if (this.claimed.has(alias) || (await this.deps.storage.aliases.get(alias))) throw taken();
    // Checked again: another claim may have been made while we read.
    if (this.claimed.has(alias)) throw taken();
    this.claimed.add(alias);
    return () => this.claimed.delete(alias);
  }

  /** Add the alias to a batch (after claim). */
  stage(batch: Batch, alias: string, shortRoom: number, roomId: string, creator: string): void {
    this.deps.storage.aliases.put(batch, alias, shortRoom, { roomId, creator });
  }

  async resolve(alias: string): Promise<{ room_id: string; servers: string[] }> {
    this.checkAlias(alias);
    if (serverNameOf(alias) !== this.deps.serverName && this.deps.remote) {
      const remote = await this.deps.remote.resolve(alias);
      if (!remote) throw notFound(`Room alias ${alias} not found`);
      return remote;
    }
    const rec = serverNameOf(alias) === this.deps.serverName ? await this.deps.storage.aliases.get(alias) : undefined;
    if (!rec) throw notFound(`Room alias ${alias} not found`);
    const servers = new Set([this.deps.serverName]);
    for (const m of await this.deps.reader.members(rec.roomId)) {
      const s = serverNameOf(m.userId);
      if (m.member.membership === 'join' && s !== undefined) servers.add(s);
    }
    return { room_id: rec.roomId, servers: [...servers] };
  }

  async create(requester: Requester, alias: string, roomId: string): Promise<void> {
    this.checkAlias(alias);
    if (serverNameOf(alias) !== this.deps.serverName) throw invalidParam('Room alias must be on this server');
    if (!isValidRoomId(roomId)) throw invalidParam('Invalid room_id');
    const shortRoom = await this.deps.storage.ids.room(roomId);
    if (shortRoom === undefined) throw notFound('Room not found');
    // Synapse: only members of the room (or admins) may point aliases at it.
    const member = await this.deps.reader.membership(roomId, requester.userId);
    if (member?.membership !== 'join' && !requester.isAdmin) throw forbidden('You are not in the room');
    const release = await this.claim(alias, () => aliasExists(alias));
    try {
      const batch = new Batch();
      this.stage(batch, alias, shortRoom, roomId, requester.userId);
      await batch.commit(this.deps.storage.db);
    } finally {
      release();
    }
  }

  async delete(requester: Requester, alias: string): Promise<void> {
    this.checkAlias(alias);
    if (serverNameOf(alias) !== this.deps.serverName) throw invalidParam('Only local aliases can be deleted');
    const rec = await this.deps.storage.aliases.get(alias);
    if (!rec) throw notFound(`Room alias ${alias} not found`);
    if (!(await this.mayDelete(requester, rec))) throw forbidden('You may not delete this alias');
    const shortRoom = await this.deps.storage.ids.room(rec.roomId);
    const batch = new Batch();
    this.deps.storage.aliases.del(batch, alias, shortRoom ?? 0);
    await batch.commit(this.deps.storage.db);
  }

  /** GET /rooms/{roomId}/aliases: for members, or anyone when the room is world_readable. */
  async ofRoom(requester: Requester, roomId: string): Promise<string[]> {
    const shortRoom = await this.deps.storage.ids.room(roomId);
    if (shortRoom === undefined) throw forbidden('You are not in the room');
    const member = await this.deps.reader.membership(roomId, requester.userId);
    if (member?.membership !== 'join' && !requester.isAdmin) {
      const hv = await this.deps.reader.currentStateEvent(roomId, 'm.room.history_visibility', '');
      if (hv?.pdu.content.history_visibility !== 'world_readable') throw forbidden('You are not in the room');
    }
    return this.deps.storage.aliases.ofRoom(shortRoom);
  }

  // Synapse: the alias's creator, an admin, or whoever may change the room's canonical alias.
  private async mayDelete(requester: Requester, rec: { roomId: string; creator: string }): Promise<boolean> {
    if (requester.isAdmin || rec.creator === requester.userId) return true;
    const version = await this.deps.reader.roomVersion(rec.roomId);
    const member = await this.deps.reader.membership(rec.roomId, requester.userId);
    if (version === undefined || member?.membership !== 'join') return false;
    const rules = roomVersion(version);
    if (!rules) return false;
    const lookup = await currentLookup(this.deps.reader, rec.roomId, [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
    ]);
    return canSendEvent(requester.userId, 'm.room.canonical_alias', true, lookup, rules);
  }

  private checkAlias(alias: string): void {
    if (!isValidRoomAlias(alias)) throw invalidParam(`Invalid room alias: ${JSON.stringify(alias)}`);
  }
}
