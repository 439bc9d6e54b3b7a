// Rejecting an invite to (or rescinding a knock on) a room this server is not in: ask a
// server in the room for a leave template (make_leave — the inviting server first, then the
// servers the invite's room state names), sign it, send it (send_leave v2), then record the
// leave locally so /sync moves the room to rooms.leave. When no server can be reached the
// invite is still rejected here (Synapse's "locally reject"): a leave we sign that only we
// know, so the user is not stuck with an invite they cannot get rid of.
// Spec: server-server-api.md "Leaving Rooms (Rejecting Invites)" (leaving.yaml, leaving-v2.yaml).
import { randomBytes } from 'node:crypto';
import { eventIdOf } from '@parley/federation/core/eventId';
import { fromWire, referenceHashObject, usesRefPairs } from '@parley/federation/core/eventRefs';
import { serverNameOf } from '@parley/federation/core/ids';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu, RoomEvent } from '@parley/federation/core/types';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import { MatrixError, notFound } from '../../http/errors.js';
import type { RemoteLeaver } from '../../rooms/ports.js';
import type { RoomWriter } from '../../rooms/roomWriter.js';
import type { RoomReader } from '../../rooms/types.js';
import { asClientError } from './remoteFailure.js';

export interface RemoteLeaverDeps {
  serverName: string;
  signingKey: SigningKey;
  client: FederationRequester;
  reader: Pick<RoomReader, 'getEvent'>;
  writer: Pick<RoomWriter, 'remote'>;
  clock?: () => number;
  onWarning?: (msg: string, extra: Record<string, unknown>) => void;
}

const enc = encodeURIComponent;
/** Servers asked before rejecting locally. */
const MAX_SERVERS = 5;

export class FederationRemoteLeaver implements RemoteLeaver {
  constructor(private readonly deps: RemoteLeaverDeps) {}

  async leaveRemote(userId: string, roomId: string, membershipEventId: string, content: Record<string, unknown>): Promise<{ eventId: string }> {
    const membership = await this.deps.reader.getEvent(membershipEventId);
    if (!membership || membership.roomId !== roomId) throw notFound(`Room ${roomId} is not known to this server`);
    let rulesOfRoom: RoomVersionRules | undefined;
    let lastError: MatrixError | undefined;
    for (const server of this.candidates(roomId, membership.pdu).slice(0, MAX_SERVERS)) {
      const res = await this.deps.client.request<{ event?: unknown; room_version?: unknown }>({
        destination: server,
        method: 'GET',
        path: `/_matrix/federation/v1/make_leave/${enc(roomId)}/${enc(userId)}`,
      });
      if (!res.ok) {
        lastError = asClientError(res, `make_leave via ${server} failed`);
        continue;
      }
      const rules = roomVersion(typeof res.body?.room_version === 'string' ? res.body.room_version : '1');
      const t = res.body?.event;
      if (!rules || !isObject(t) || t.type !== 'm.room.member' || t.state_key !== userId || t.sender !== userId || !Array.isArray(t.prev_events) || !Array.isArray(t.auth_events)) {
        lastError = new MatrixError(502, 'M_UNKNOWN', `make_leave via ${server}: unusable template`);
        continue;
      }
      rulesOfRoom = rules;
      const leave = this.sign(t as JsonObject, rules, userId, content);
      const eventId = eventIdOf(leave, rules);
      const sent = await this.deps.client.request({
        destination: server,
        method: 'PUT',
        path: `/_matrix/federation/v2/send_leave/${enc(roomId)}/${enc(eventId)}`,
        body: leave as unknown as JsonObject,
      });
      if (!sent.ok) {
        lastError = asClientError(sent, `send_leave via ${server} failed`);
        continue;
      }
      await this.record(rules, { eventId, roomId, ...fromWire(leave, rules) });
      return { eventId };
    }
    // Nobody in the room could be reached (or all refused): reject here only.
    this.deps.onWarning?.('rejecting an invite locally: no server of the room took the leave', { roomId, userId, error: lastError?.message });
    const rules = rulesOfRoom ?? this.rulesOf(membership.pdu);
    // v1/v2 reference the membership by an [ID, reference hash] pair.
    const ref = usesRefPairs(rules) ? [membershipEventId, referenceHashObject(membership, rules)] : membershipEventId;
    const leave = this.sign(
      {
        room_id: roomId,
        type: 'm.room.member',
        sender: userId,
        state_key: userId,
        prev_events: [ref],
        auth_events: [ref],
        depth: membership.pdu.depth + 1,
      } as unknown as JsonObject,
      rules,
      userId,
      content,
    );
    const eventId = eventIdOf(leave, rules);
    await this.record(rules, { eventId, roomId, ...fromWire(leave, rules) });
    return { eventId };
  }

  /** The inviter's server, the servers of the invite's room state, the room ID's server (before v12). */
  private candidates(roomId: string, membership: Pdu): string[] {
    const out: string[] = [];
    const add = (s: string | undefined) => {
      if (s !== undefined && s !== this.deps.serverName && !out.includes(s)) out.push(s);
    };
    add(serverNameOf(membership.sender));
    const unsigned = (membership as Pdu & { unsigned?: Record<string, unknown> }).unsigned;
    for (const field of ['invite_room_state', 'knock_room_state']) {
      const state = unsigned?.[field];
      if (Array.isArray(state)) for (const e of state) if (isObject(e) && typeof e.sender === 'string') add(serverNameOf(e.sender));
    }
    add(serverNameOf(roomId));
    return out;
  }

  /** The room version of the invite (its room state's create event), else the default room version. */
  private rulesOf(membership: Pdu): RoomVersionRules {
    const state = (membership as Pdu & { unsigned?: Record<string, unknown> }).unsigned?.invite_room_state;
    const create = Array.isArray(state) ? state.find((e) => isObject(e) && e.type === 'm.room.create') : undefined;
    const version = isObject(create) && isObject(create.content) && typeof create.content.room_version === 'string' ? create.content.room_version : '1';
    return roomVersion(version) ?? roomVersion('12')!;
  }

  private sign(template: JsonObject, rules: RoomVersionRules, userId: string, content: Record<string, unknown>): Pdu {
    const { signatures: _s, hashes: _h, unsigned: _u, event_id: _e, ...rest } = template;
    const pdu = {
      ...rest,
      sender: userId,
      state_key: userId,
      content: { ...(content as JsonObject), membership: 'leave' },
      origin_server_ts: (this.deps.clock ?? Date.now)(),
    } as unknown as Pdu;
    if (rules.eventIdFormat === 'v1') pdu.event_id = `$${randomBytes(12).toString('base64url')}:${this.deps.serverName}`;
    return hashAndSignEvent(pdu, rules, this.deps.serverName, this.deps.signingKey);
  }

  private record(rules: RoomVersionRules, leave: RoomEvent): Promise<void> {
    const createId = rules.roomIdIsCreateEventHash ? '$' + leave.roomId.slice(1) : undefined;
    return this.deps.writer.remote(leave.roomId, rules, createId, (s) => s.persistOutlierMembership(leave, 'leave'));
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
