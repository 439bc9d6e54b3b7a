// Server notices: a system user sends official messages to a local user in that user's one
// server notices room, which carries the m.server_notice tag and which the user is invited to
// (not joined). Spec: client-server-api/modules/server_notices.md "Server behaviour",
// "Client behaviour". Where the spec is silent this follows Synapse's server notices manager.
import { randomBytes } from 'node:crypto';
import { serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { ServerNoticesConfig } from '../config/config.js';
import { cannotLeaveServerNoticeRoom, invalidParam, notFound, unknown } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import type { MemberRecord } from '../rooms/types.js';
import type { NoticeRoomRecord } from '../storage/serverNoticesRepo.js';
import { KeyedLock } from '../util/keyedLock.js';

/** The room tag clients recognise the room by (server_notices.md "Client behaviour"). */
export const SERVER_NOTICE_TAG = 'm.server_notice';
/** The device the system user's events are sent from (scopes transaction IDs). */
const SYSTEM_DEVICE = 'server-notices';

export interface ServerNoticesDeps {
  serverName: string;
  config: ServerNoticesConfig;
  repo: {
    get(userId: string): Promise<NoticeRoomRecord | undefined>;
    set(userId: string, record: NoticeRoomRecord): Promise<void>;
  };
  users: {
    exists(userId: string): Promise<boolean>;
    /** Creates an account without password or device (nobody can log in as it). */
    create(localpart: string, displayname: string | undefined): Promise<void>;
    profile(userId: string): Promise<{ displayname?: string; avatar_url?: string }>;
    setProfileField(userId: string, field: 'displayname' | 'avatar_url', value: string): Promise<void>;
  };
  rooms: {
    create(requester: Requester, req: CreateRoomRequest): Promise<string>;
    send(requester: Requester, roomId: string, type: string, txnId: string, content: JsonObject): Promise<string>;
    setState(requester: Requester, roomId: string, type: string, stateKey: string, content: JsonObject): Promise<string>;
    membership(roomId: string, userId: string): Promise<MemberRecord | undefined>;
  };
  tags: { add(userId: string, roomId: string, tag: string): Promise<void> };
  now?: () => number;
}

export interface Notice {
  userId: string;
  content: JsonObject;
  /** Default m.room.message. */
  type?: string;
  /** Sends a state event instead of a message (Synapse's `state_key`). */
  stateKey?: string;
  /** PUT /send_server_notice/{txnId}: a retry with the same ID sends nothing new. */
  txnId?: string;
}

export class ServerNotices {
  readonly systemUserId: string;
  private readonly locks = new KeyedLock();

  constructor(private readonly deps: ServerNoticesDeps) {
    this.systemUserId = `@${deps.config.system_mxid_localpart}:${deps.serverName}`;
  }

  /** Creates the system user (so nobody can register its name) and keeps its profile as configured. */
  async start(): Promise<void> {
    const { users, config } = this.deps;
    if (!(await users.exists(this.systemUserId))) {
      await users.create(config.system_mxid_localpart, config.system_mxid_display_name);
    }
    const profile = await users.profile(this.systemUserId);
    if (config.system_mxid_display_name !== undefined && profile.displayname !== config.system_mxid_display_name) {
      await users.setProfileField(this.systemUserId, 'displayname', config.system_mxid_display_name);
    }
    if (config.system_mxid_avatar_url !== undefined && profile.avatar_url !== config.system_mxid_avatar_url) {
      await users.setProfileField(this.systemUserId, 'avatar_url', config.system_mxid_avatar_url);
    }
  }

  /** Sends a notice to a local user, making their notices room first if needed. Returns the event ID. */
  async send(notice: Notice): Promise<{ eventId: string; roomId: string }> {
    const { userId } = notice;
    if (serverNameOf(userId) !== this.deps.serverName) throw unknown('Server notices can only be sent to local users');
    if (userId === this.systemUserId) throw invalidParam('Server notices cannot be sent to the server notices user');
    if (!(await this.deps.users.exists(userId))) throw notFound('User not found');
    const roomId = await this.locks.run(userId, () => this.roomFor(userId));
    const sender = this.requester();
    const type = notice.type ?? 'm.room.message';
    let content = notice.content;
    // The spec's notices are m.server_notice messages; an explicit msgtype (Synapse's docs send m.text) is kept.
    if (type === 'm.room.message' && content.msgtype === undefined) content = { ...content, msgtype: 'm.server_notice' };
    const eventId =
      notice.stateKey !== undefined
        ? await this.deps.rooms.setState(sender, roomId, type, notice.stateKey, content)
        : await this.deps.rooms.send(sender, roomId, type, notice.txnId ?? randomBytes(12).toString('hex'), content);
    return { eventId, roomId };
  }

  /** The leave guard: rejecting the invite to one's notices room is refused; leaving after joining is not. */
  readonly guardLeave = async (userId: string, roomId: string): Promise<void> => {
    if ((await this.deps.repo.get(userId))?.roomId !== roomId) return;
    if ((await this.deps.rooms.membership(roomId, userId))?.membership === 'invite') throw cannotLeaveServerNoticeRoom();
  };

  /** The user's notices room while they are in it or invited; otherwise a new one (one at a time, as Synapse). */
  private async roomFor(userId: string): Promise<string> {
    const known = await this.deps.repo.get(userId);
    if (known !== undefined) {
      const m = (await this.deps.rooms.membership(known.roomId, userId))?.membership;
      if (m === 'join' || m === 'invite') return known.roomId;
    }
    const { config } = this.deps;
    const roomId = await this.deps.rooms.create(this.requester(), {
      preset: 'private_chat',
      name: config.room_name,
      invite: [userId],
      // Local only, and the user may read but not write (Synapse).
      creation_content: { 'm.federate': false },
      power_level_content_override: { users_default: -10 },
      ...(config.system_mxid_avatar_url !== undefined
        ? { initial_state: [{ type: 'm.room.avatar', state_key: '', content: { url: config.system_mxid_avatar_url } }] }
        : {}),
    });
    await this.deps.tags.add(userId, roomId, SERVER_NOTICE_TAG);
    await this.deps.repo.set(userId, { roomId, ts: (this.deps.now ?? Date.now)() });
    return roomId;
  }

  private requester(): Requester {
    return { userId: this.systemUserId, deviceId: SYSTEM_DEVICE, isAdmin: false };
  }
}
