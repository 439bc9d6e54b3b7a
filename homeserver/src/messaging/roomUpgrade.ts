// POST /rooms/{roomId}/upgrade: a replacement room in the new version with the old
// room's transferable state, the local aliases (and directory listing) moved over in
// the same batch, a tombstone in the old room, and the old room's power levels raised
// so that ordinary members can no longer talk or invite there.
// Spec: client-server-api/modules/room_upgrades.md "Server behaviour"; room_upgrades.yaml;
// rooms/v12.md (creators outrank everyone and are not listed in power levels; additional
// creators are not carried over unless given again).
import { canSendEvent, roomCreators } from '@parley/federation/core/auth/index';
import { isValidUserId } from '@parley/federation/core/ids';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObject } from '@parley/federation/core/types';
import { randomBytes } from 'node:crypto';
import { forbidden, invalidParam, notFound, unsupportedRoomVersion } from '../http/errors.js';
import { creatableRoomVersion } from '../rooms/createRoom.js';
import type { MembershipService } from '../rooms/membershipService.js';
import type { EventDraft } from '../rooms/pipeline/draft.js';
import type { RoomWriter } from '../rooms/roomWriter.js';
import { currentLookup } from '../rooms/stateLookups.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { RoomStorage } from '../storage/roomStorage.js';

/** room_upgrades.md step 3: the recommended transferable state, in the order it is recreated. */
const TRANSFERRED = [
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.encryption',
  'm.room.server_acl',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
] as const;

export interface UpgradeDeps {
  reader: RoomReader;
  writer: RoomWriter;
  storage: Pick<RoomStorage, 'ids' | 'aliases' | 'published'>;
  membership: Pick<MembershipService, 'memberContent'>;
  serverName: string;
  onError?: (err: unknown, what: string) => void;
}

export class RoomUpgrader {
  constructor(private readonly deps: UpgradeDeps) {}

  async upgrade(userId: string, roomId: string, newVersion: string, additionalCreators: string[] = []): Promise<{ replacement_room: string }> {
    const { reader, writer, storage } = this.deps;
    const rules = creatableRoomVersion(newVersion);
    if (!rules) throw unsupportedRoomVersion(newVersion);
    const oldVersion = await reader.roomVersion(roomId);
    const oldRules = oldVersion === undefined ? undefined : roomVersion(oldVersion);
    if (!oldRules) throw notFound('Unknown room');
    if ((await reader.membership(roomId, userId))?.membership !== 'join') throw forbidden('You are not in this room');
    const lookup = await currentLookup(reader, roomId, [
      ['m.room.create', ''],
      ['m.room.power_levels', ''],
    ]);
    if (!canSendEvent(userId, 'm.room.tombstone', true, lookup, oldRules)) throw forbidden('You cannot upgrade this room');
    for (const u of additionalCreators) if (!isValidUserId(u)) throw invalidParam(`Invalid user ID in additional_creators: ${u}`);

    const [create, powerLevels, canonicalAlias, ...copied] = await Promise.all(
      ['m.room.create', 'm.room.power_levels', 'm.room.canonical_alias', ...TRANSFERRED].map((t) => reader.currentStateEvent(roomId, t, '')),
    );
    if (!create) throw notFound('Unknown room');
    const lastEvent = (await reader.timeline(roomId, { dir: 'b', limit: 1 }))[0];
    const oldShort = await storage.ids.room(roomId);
    const aliases = oldShort === undefined ? [] : await storage.aliases.ofRoom(oldShort);
    const published = await storage.published.isPublished(roomId);
    const creatorJoin = await this.deps.membership.memberContent(userId, 'join');

    const createContent: JsonObject = {
      room_version: rules.id,
      // v12 lets the predecessor's event_id be left out; it is kept for older clients.
      predecessor: lastEvent ? { room_id: roomId, event_id: lastEvent.eventId } : { room_id: roomId },
    };
    if (!rules.creatorIsSender) createContent.creator = userId;
    if (typeof create.pdu.content.type === 'string') createContent.type = create.pdu.content.type;
    const extraCreators = rules.privilegedCreators ? [...new Set(additionalCreators.filter((u) => u !== userId))] : [];
    if (extraCreators.length > 0) createContent.additional_creators = extraCreators;

    const state = (type: string, content: JsonObject): EventDraft => ({ type, sender: userId, stateKey: '', content });
    const pls = newPowerLevels(powerLevels?.pdu.content, rules, userId, new Set([userId, ...extraCreators]), roomCreators(create.pdu, oldRules));
    const drafts: EventDraft[] = [state('m.room.member', creatorJoin), state('m.room.power_levels', pls.initial)];
    drafts[0] = { ...drafts[0], stateKey: userId };
    for (const ev of copied) if (ev) drafts.push(state(ev.pdu.type, ev.pdu.content));
    if (canonicalAlias && Object.keys(canonicalAlias.pdu.content).length > 0) drafts.push(state('m.room.canonical_alias', canonicalAlias.pdu.content));
    if (pls.final) drafts.push(state('m.room.power_levels', pls.final));

    const { roomId: newRoomId } = await writer.create({
      version: rules.id,
      rules,
      create: { type: 'm.room.create', sender: userId, stateKey: '', content: createContent },
      ...(rules.roomIdIsCreateEventHash ? {} : { roomId: `!${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}:${this.deps.serverName}` }),
      then: () => drafts,
      // room_upgrades.md step 4: local aliases (and the directory listing) follow the room.
      alsoStage: (batch, newId, newShort) => {
        for (const alias of aliases) {
          if (oldShort !== undefined) storage.aliases.del(batch, alias, oldShort);
          storage.aliases.put(batch, alias, newShort, { roomId: newId, creator: userId });
        }
        if (published) {
          storage.published.stage(batch, roomId, false);
          storage.published.stage(batch, newId, true);
        }
      },
    });

    // Step 5: the tombstone. Step 6 (best effort, like Synapse): silence the old room.
    await writer.append(roomId, async () => [
      state('m.room.tombstone', { body: 'This room has been replaced', replacement_room: newRoomId }),
    ]);
    await this.restrictOldRoom(userId, roomId, powerLevels, canonicalAlias).catch((err: unknown) =>
      this.deps.onError?.(err, `restricting upgraded room ${roomId}`),
    );
    return { replacement_room: newRoomId };
  }

  private async restrictOldRoom(userId: string, roomId: string, pl: StoredEvent | undefined, alias: StoredEvent | undefined): Promise<void> {
    const drafts: EventDraft[] = [];
    if (alias && Object.keys(alias.pdu.content).length > 0) drafts.push({ type: 'm.room.canonical_alias', sender: userId, stateKey: '', content: {} });
    if (pl) {
      const c = pl.pdu.content;
      const usersDefault = typeof c.users_default === 'number' ? c.users_default : 0;
      const level = Math.max(50, usersDefault + 1);
      const restricted = { ...c, events_default: Math.max(num(c.events_default, 0), level), invite: Math.max(num(c.invite, 0), level) };
      drafts.push({ type: 'm.room.power_levels', sender: userId, stateKey: '', content: restricted });
    }
    for (const d of drafts) await this.deps.writer.append(roomId, async () => [d]);
  }
}

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' ? v : dflt;
}

/**
 * The new room's power levels. v12 creators are implicit (and must not be listed). Before
 * v12 the upgrader may need more power than the old room gave them to recreate the state:
 * then an initial event raises them, and the old levels are restored at the end (Synapse).
 */
function newPowerLevels(
  old: JsonObject | undefined,
  rules: RoomVersionRules,
  userId: string,
  newCreators: Set<string>,
  oldCreators: Set<string>,
): { initial: JsonObject; final?: JsonObject } {
  const base: JsonObject = { ...(old ?? {}) };
  const users: JsonObject = { ...((base.users as JsonObject | undefined) ?? {}) };
  if (rules.privilegedCreators) {
    for (const u of newCreators) delete users[u];
    base.users = users;
    return { initial: base };
  }
  // Creators of a v12 room had no listed level; in an older version they need one.
  for (const u of oldCreators) if (users[u] === undefined) users[u] = 100;
  base.users = users;
  const needed = Math.max(
    100,
    num(base.state_default, 50),
    ...Object.values((base.events as JsonObject | undefined) ?? {}).map((v) => num(v, 0)),
  );
  const mine = num(users[userId], num(base.users_default, 0));
  if (mine >= needed) return { initial: base };
  return { initial: { ...base, users: { ...users, [userId]: needed } }, final: base };
}
