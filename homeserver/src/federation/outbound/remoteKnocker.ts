// Knocking on a room this server is not in: ask a resident server for a knock template
// (make_knock, offering every room version we support, trying each candidate server in
// turn), sign the completed event, send it (send_knock), then keep it locally as an
// outlier with the knock_room_state the resident returned, so the user's /sync lists the
// room under rooms.knock. Being invited (a remote invite) and joining then work as usual.
// Spec: server-server-api.md "Knocking upon a room" (knocks.yaml); client-server-api
// "Knocking on rooms" (via/server_name).
import { randomBytes } from 'node:crypto';
import { eventIdOf } from '@parley/federation/core/eventId';
import { knownRoomVersions, roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu, RoomEvent } from '@parley/federation/core/types';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';
import type { FederationFailure, FederationRequester } from '@parley/federation/transport/federationClient';
import { MatrixError, notFound } from '../../http/errors.js';
import type { RemoteKnocker } from '../../rooms/ports.js';
import type { RoomWriter } from '../../rooms/roomWriter.js';
import type { RemoteDirectory } from './remoteDirectory.js';
import { handshakeTargets } from './handshakeTargets.js';
import { asClientError } from './remoteFailure.js';

/** Where an accepted knock is kept (the room writer's remote session, in production). */
export interface KnockRecorder {
  recordKnock(rules: RoomVersionRules, knock: RoomEvent, knockRoomState: unknown[]): Promise<void>;
}

export interface RemoteKnockerDeps {
  serverName: string;
  signingKey: SigningKey;
  client: FederationRequester;
  directory: RemoteDirectory;
  recorder: KnockRecorder;
  clock?: () => number;
}

const enc = encodeURIComponent;

export class FederationRemoteKnocker implements RemoteKnocker {
  constructor(private readonly deps: RemoteKnockerDeps) {}

  async knockRemote(userId: string, roomIdOrAlias: string, servers: string[], content: Record<string, unknown>): Promise<{ roomId: string }> {
    const { roomId, tryServers } = await handshakeTargets(roomIdOrAlias, servers, this.deps.directory, this.deps.serverName, 'knock on');

    let lastError: MatrixError | undefined;
    for (const server of tryServers) {
      const made = await this.makeKnock(server, roomId, userId);
      if (!made.ok) {
        lastError = made.error;
        // A resident that refuses (join rule not knock, banned) speaks for the room.
        if (made.final) throw made.error;
        continue;
      }
      const knock = this.completeKnock(made.template, made.rules, userId, content);
      const eventId = eventIdOf(knock, made.rules);
      const res = await this.deps.client.request<{ knock_room_state?: unknown }>({
        destination: server,
        method: 'PUT',
        path: `/_matrix/federation/v1/send_knock/${enc(roomId)}/${enc(eventId)}`,
        body: knock as unknown as JsonObject,
      });
      if (!res.ok) {
        lastError = asClientError(res, `send_knock via ${server} failed`);
        if (isRefusal(res)) throw lastError;
        continue;
      }
      const state = res.body?.knock_room_state;
      // Acknowledged by the resident: the knock exists now, whatever the state looks like.
      await this.deps.recorder.recordKnock(made.rules, { eventId, roomId, pdu: knock }, Array.isArray(state) ? state : []);
      return { roomId };
    }
    throw lastError ?? notFound(`Could not knock on ${roomIdOrAlias}`);
  }

  private async makeKnock(
    server: string,
    roomId: string,
    userId: string,
  ): Promise<{ ok: true; template: JsonObject; rules: RoomVersionRules } | { ok: false; error: MatrixError; final: boolean }> {
    // knocks.yaml: ver is required; knocking exists from room version 7.
    const ver = knownRoomVersions()
      .filter((v) => v.knocking)
      .map((v) => `ver=${enc(v.id)}`)
      .join('&');
    const res = await this.deps.client.request<{ event?: unknown; room_version?: unknown }>({
      destination: server,
      method: 'GET',
      path: `/_matrix/federation/v1/make_knock/${enc(roomId)}/${enc(userId)}?${ver}`,
    });
    if (!res.ok) return { ok: false, error: asClientError(res, `make_knock via ${server} failed`), final: isRefusal(res) };
    const versionId = typeof res.body?.room_version === 'string' ? res.body.room_version : undefined;
    const rules = versionId === undefined ? undefined : roomVersion(versionId);
    if (rules === undefined || !rules.knocking) {
      return { ok: false, error: new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${versionId ?? '?'} does not support knocking here`), final: true };
    }
    const t = res.body?.event;
    if (!isObject(t) || t.type !== 'm.room.member' || t.state_key !== userId || t.sender !== userId || t.room_id !== roomId || !Array.isArray(t.prev_events) || !Array.isArray(t.auth_events)) {
      return { ok: false, error: new MatrixError(502, 'M_UNKNOWN', `make_knock via ${server}: malformed template`), final: false };
    }
    return { ok: true, template: t as JsonObject, rules };
  }

  /** The template with our content (membership knock, profile, reason) and time, hashed and signed by us. */
  private completeKnock(template: JsonObject, rules: RoomVersionRules, userId: string, content: Record<string, unknown>): Pdu {
    const { signatures: _s, hashes: _h, unsigned: _u, event_id: _e, ...rest } = template;
    const pdu = {
      ...rest,
      sender: userId,
      state_key: userId,
      content: { ...(content as JsonObject), membership: 'knock' },
      origin_server_ts: (this.deps.clock ?? Date.now)(),
    } as unknown as Pdu;
    if (rules.eventIdFormat === 'v1') pdu.event_id = `$${randomBytes(12).toString('base64url')}:${this.deps.serverName}`;
    return hashAndSignEvent(pdu, rules, this.deps.serverName, this.deps.signingKey);
  }
}

/** Records a knock through the room writer: an outlier with its stream position and membership index. */
export function writerKnockRecorder(writer: Pick<RoomWriter, 'remote'>): KnockRecorder {
  return {
    recordKnock(rules, knock, knockRoomState) {
      // sync/strippedState.ts shows unsigned.knock_room_state as the room's knock_state.
      const event: RoomEvent = { ...knock, pdu: { ...knock.pdu, unsigned: { knock_room_state: knockRoomState as JsonObject[] } } };
      const createId = rules.roomIdIsCreateEventHash ? '$' + knock.roomId.slice(1) : undefined;
      return writer.remote(knock.roomId, rules, createId, (s) => s.persistKnock(event));
    },
  };
}

function isRefusal(f: FederationFailure): boolean {
  return f.kind === 'http' && (f.status === 403 || (f.status === 400 && f.errcode === 'M_INCOMPATIBLE_ROOM_VERSION'));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
