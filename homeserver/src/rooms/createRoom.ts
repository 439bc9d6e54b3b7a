// POST /createRoom: the events of a new room, in the order the spec gives, written
// in one atomic batch (with the alias and directory listing, if asked for).
// Spec: client-server-api/_index.md "Creation" (create_room.yaml), rooms/v12.md
// (creators are not in power_levels users; additional_creators).
import { isValidUserId } from '@parley/federation/core/ids';
import { DEFAULT_ROOM_VERSION, roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObject } from '@parley/federation/core/types';
import { randomBytes } from 'node:crypto';
import { MatrixError, invalidParam, invalidRoomState, roomInUse, unsupportedFeature, unsupportedRoomVersion } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import type { RoomAliases } from './aliasService.js';
import type { MembershipService } from './membershipService.js';
import type { EventDraft } from './pipeline/draft.js';
import type { PublishedRoomsRepo } from '../storage/publishedRoomsRepo.js';
import type { RoomWriter } from './roomWriter.js';

export type Preset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

export interface CreateRoomRequest {
  visibility?: 'public' | 'private';
  room_alias_name?: string;
  name?: string;
  topic?: string;
  invite?: string[];
  invite_3pid?: unknown[];
  room_version?: string;
  creation_content?: JsonObject;
  initial_state?: Array<{ type: string; state_key?: string; content: JsonObject }>;
  preset?: Preset;
  is_direct?: boolean;
  power_level_content_override?: JsonObject;
}

export interface CreateRoomDeps {
  writer: RoomWriter;
  aliases: RoomAliases;
  membership: MembershipService;
  published: PublishedRoomsRepo;
  serverName: string;
}

/**
 * Versions new rooms may use: the ones GET /capabilities advertises. Every known version (the
 * core applies each version's rules by flags; v1/v2 events get `$random:server` IDs and
 * reference pairs in pipeline/finalizeEvent.ts), as Synapse offers them.
 */
export function creatableRoomVersion(id: string): RoomVersionRules | undefined {
  return roomVersion(id);
}

const PRESET_STATE: Record<Preset, { join_rule: string; guest_access: string }> = {
  private_chat: { join_rule: 'invite', guest_access: 'can_join' },
  trusted_private_chat: { join_rule: 'invite', guest_access: 'can_join' },
  public_chat: { join_rule: 'public', guest_access: 'forbidden' },
};

export class RoomCreator {
  constructor(private readonly deps: CreateRoomDeps) {}

  async createRoom(requester: Requester, req: CreateRoomRequest): Promise<{ room_id: string; room_alias?: string }> {
    const version = req.room_version ?? DEFAULT_ROOM_VERSION;
    const rules = creatableRoomVersion(version);
    if (!rules) throw unsupportedRoomVersion(version);
    // Third-party invites need an identity server, which Parley does not use: refused, not silently dropped.
    if (req.invite_3pid && req.invite_3pid.length > 0) throw unsupportedFeature('invite_3pid is not supported by this server');
    const creator = requester.userId;
    const invitees = [...new Set(req.invite ?? [])].filter((u) => u !== creator);
    for (const u of invitees) if (!isValidUserId(u)) throw invalidParam(`Invalid user ID in invite: ${JSON.stringify(u)}`);
    const preset: Preset = req.preset ?? (req.visibility === 'public' ? 'public_chat' : 'private_chat');
    const alias = req.room_alias_name === undefined ? undefined : this.deps.aliases.localAlias(req.room_alias_name);

    // Member contents read profiles, so they are prepared before entering the room's queue.
    const creatorJoin = await this.deps.membership.memberContent(creator, 'join');
    const inviteExtra = req.is_direct ? { is_direct: true } : undefined;
    // Other servers' users are invited once the room exists: their server must countersign
    // each invite (server-server-api.md "Inviting to a room"), as Synapse does after creation.
    const remoteInvitees = invitees.filter((u) => this.deps.membership.invitesOverFederation(u));
    const batchInvitees = invitees.filter((u) => !remoteInvitees.includes(u));
    const invites = await Promise.all(batchInvitees.map((u) => this.deps.membership.memberContent(u, 'invite', undefined, inviteExtra)));
    const release = alias ? await this.deps.aliases.claim(alias, () => roomInUse(`Room alias ${alias} is already in use`)) : undefined;
    let created: string;
    try {
      const { roomId } = await this.deps.writer.create({
        version,
        rules,
        create: { type: 'm.room.create', sender: creator, stateKey: '', content: createContent(req, rules, preset, creator, invitees) },
        ...(rules.roomIdIsCreateEventHash ? {} : { roomId: this.randomRoomId() }),
        then: () => [
          { type: 'm.room.member', sender: creator, stateKey: creator, content: creatorJoin },
          ...this.stateDrafts(req, rules, preset, creator, invitees, alias),
          ...batchInvitees.map((u, i): EventDraft => ({ type: 'm.room.member', sender: creator, stateKey: u, content: invites[i] })),
        ],
        alsoStage: (batch, roomId, shortRoom) => {
          if (alias) this.deps.aliases.stage(batch, alias, shortRoom, roomId, creator);
          if (req.visibility === 'public') this.deps.published.stage(batch, roomId, true);
        },
      });
      created = roomId;
    } catch (err) {
      // The request's state did not pass the auth rules (e.g. an override that leaves the creator powerless).
      if (err instanceof MatrixError && err.errcode === 'M_FORBIDDEN') throw invalidRoomState(err.message);
      throw err;
    } finally {
      release?.();
    }
    // A refusal by the invitee's server is its answer (e.g. 403), not a problem of the request's state.
    for (const u of remoteInvitees) await this.deps.membership.invite(creator, created, u, undefined, inviteExtra);
    return { room_id: created, ...(alias ? { room_alias: alias } : {}) };
  }

  /** Steps 3–7 of the spec's order: power levels, canonical alias, preset state, initial_state, name, topic. */
  private stateDrafts(req: CreateRoomRequest, rules: RoomVersionRules, preset: Preset, creator: string, invitees: string[], alias: string | undefined): EventDraft[] {
    const state = (type: string, content: JsonObject, stateKey = ''): EventDraft => ({ type, sender: creator, stateKey, content });
    const initial = (req.initial_state ?? []).map((e) => ({ ...e, state_key: e.state_key ?? '' }));
    const inInitial = (type: string) => initial.some((e) => e.type === type && e.state_key === '');
    // An initial_state power levels event becomes the base of the power levels event (Synapse).
    const basePl = initial.find((e) => e.type === 'm.room.power_levels' && e.state_key === '')?.content;
    const out: EventDraft[] = [
      state('m.room.power_levels', { ...(basePl ?? defaultPowerLevels(rules, preset, creator, invitees)), ...req.power_level_content_override }),
    ];
    if (alias) out.push(state('m.room.canonical_alias', { alias }));
    // initial_state takes precedence over the preset.
    const p = PRESET_STATE[preset];
    if (!inInitial('m.room.join_rules')) out.push(state('m.room.join_rules', { join_rule: p.join_rule }));
    if (!inInitial('m.room.history_visibility')) out.push(state('m.room.history_visibility', { history_visibility: 'shared' }));
    if (!inInitial('m.room.guest_access')) out.push(state('m.room.guest_access', { guest_access: p.guest_access }));
    for (const e of initial) {
      if (e.type === 'm.room.power_levels' && e.state_key === '') continue;
      out.push(state(e.type, e.content, e.state_key));
    }
    if (req.name !== undefined) out.push(state('m.room.name', { name: req.name }));
    if (req.topic !== undefined) {
      out.push(state('m.room.topic', { topic: req.topic, 'm.topic': { 'm.text': [{ body: req.topic, mimetype: 'text/plain' }] } }));
    }
    return out;
  }

  private randomRoomId(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const opaque = Array.from(randomBytes(18), (b) => alphabet[b % alphabet.length]).join('');
    return `!${opaque}:${this.deps.serverName}`;
  }
}

/** m.room.create content: creation_content, with the keys the server owns overwritten. */
function createContent(req: CreateRoomRequest, rules: RoomVersionRules, preset: Preset, creator: string, invitees: string[]): JsonObject {
  const { creator: _c, room_version: _v, ...extra } = req.creation_content ?? {};
  const content: JsonObject = { ...extra, room_version: rules.id };
  if (!rules.creatorIsSender) content.creator = creator;
  // v12 trusted_private_chat: invitees become additional creators (create_room.yaml, step 3 note).
  if (rules.privilegedCreators && preset === 'trusted_private_chat') {
    const given = Array.isArray(extra.additional_creators) ? extra.additional_creators : [];
    const merged = [...new Set([...given, ...invitees])];
    if (merged.length > 0) content.additional_creators = merged;
  }
  return content;
}

/** The power levels Synapse gives a new room; v12 creators are implicit and outrank everyone. */
export function defaultPowerLevels(rules: RoomVersionRules, preset: Preset, creator: string, invitees: string[]): JsonObject {
  const users: JsonObject = {};
  if (!rules.privilegedCreators) {
    users[creator] = 100;
    if (preset === 'trusted_private_chat') for (const u of invitees) users[u] = 100;
  }
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      // v12: explicitly above the admin level (create_room.yaml, step 3).
      'm.room.tombstone': rules.privilegedCreators ? 150 : 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    // Synapse's private presets let any member invite; public rooms need moderators.
    invite: preset === 'public_chat' ? 50 : 0,
  };
}
