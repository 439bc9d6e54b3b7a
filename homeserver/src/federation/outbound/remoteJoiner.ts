// Joining a room this server is not in: ask a resident server for a join template
// (make_join, trying each candidate server in turn), sign the completed event, send it
// (send_join v2), then hand the state and auth chain to the ingest side, which stores
// them as the room's state before our join. With partial joins on, send_join asks for
// omit_members (MSC3706 "faster joins"): a resident that honours it leaves out most
// member events, the room is marked partial before the join is stored, and the rest of
// the state is fetched in the background (partialStateResync.ts). A resident that ignores
// it answers with the full state, and the join is complete at once.
// Spec: server-server-api.md "Joining Rooms" (joins.yaml, joins-v2.yaml); client-server-api
// "Joining rooms" (via/server_name).
import { randomBytes } from 'node:crypto';
import { eventIdOf } from '@parley/federation/core/eventId';
import { knownRoomVersions, roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu } from '@parley/federation/core/types';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';
import type { FederationFailure, FederationRequester } from '@parley/federation/transport/federationClient';
import { MatrixError, notFound } from '../../http/errors.js';
import type { RemoteJoiner } from '../../rooms/ports.js';
import type { StoredEvent } from '../../rooms/types.js';
import type { PartialStateRecord } from '../../storage/partialStateRepo.js';
import type { RemoteDirectory } from './remoteDirectory.js';
import { handshakeTargets } from './handshakeTargets.js';
import { asClientError } from './remoteFailure.js';

/** What joining needs from the ingest side (homeserver/src/federation/ingest RemoteIngest). */
export interface JoinedRoomIngest {
  ingestJoinedRoom(roomVersion: string, joinEvent: Pdu, state: Pdu[], authChain: Pdu[], origin: string): Promise<StoredEvent>;
}

export interface RemoteJoinerDeps {
  serverName: string;
  signingKey: SigningKey;
  client: FederationRequester;
  ingest: JoinedRoomIngest;
  directory: RemoteDirectory;
  clock?: () => number;
  /** Partial-state joins (omit_members); without it, send_join asks for the full state. */
  partialJoins?: PartialJoins;
}

/** The partial-state side of a join (PartialStateResync). */
export interface PartialJoins {
  /** Durably mark the room partial, before its join is stored. */
  begin(roomId: string, rec: PartialStateRecord): Promise<void>;
  /** The join is stored: fetch the rest of the state in the background. */
  joined(roomId: string): void;
  /** Storing the join failed: forget the marker. */
  abandon(roomId: string): Promise<void>;
}

interface SendJoinResponse {
  state?: unknown;
  auth_chain?: unknown;
  event?: unknown;
  members_omitted?: unknown;
  servers_in_room?: unknown;
}

const enc = encodeURIComponent;

export class FederationRemoteJoiner implements RemoteJoiner {
  constructor(private readonly deps: RemoteJoinerDeps) {}

  async joinRemote(userId: string, roomIdOrAlias: string, servers: string[], content: Record<string, unknown>): Promise<{ roomId: string }> {
    const { roomId, tryServers } = await handshakeTargets(roomIdOrAlias, servers, this.deps.directory, this.deps.serverName, 'join');

    let lastError: MatrixError | undefined;
    for (const server of tryServers) {
      const made = await this.makeJoin(server, roomId, userId);
      if (!made.ok) {
        lastError = made.error;
        // A resident that refuses us (not invited, banned) speaks for the room: stop there.
        if (made.final) throw made.error;
        continue;
      }
      const joinEvent = this.completeJoin(made.template, made.rules, userId, content);
      const eventId = eventIdOf(joinEvent, made.rules);
      const partialJoins = this.deps.partialJoins;
      const res = await this.deps.client.request<SendJoinResponse>({
        destination: server,
        method: 'PUT',
        path: `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}${partialJoins ? '?omit_members=true' : ''}`,
        body: joinEvent as unknown as JsonObject,
      });
      if (!res.ok) {
        lastError = asClientError(res, `send_join via ${server} failed`);
        continue;
      }
      const { state, auth_chain: authChain, event, members_omitted: omitted, servers_in_room: inRoom } = res.body ?? {};
      if (!Array.isArray(state) || !Array.isArray(authChain)) {
        lastError = new MatrixError(502, 'M_UNKNOWN', `send_join via ${server}: malformed response`);
        continue;
      }
      // joins-v2.yaml: `event` is returned signed by the resident for restricted joins; use it then.
      const finalJoin = isSameJoin(event, joinEvent, made.rules) ? (event as Pdu) : joinEvent;
      // joins-v2.yaml: members_omitted says whether the resident honoured omit_members.
      const partial = partialJoins !== undefined && omitted === true;
      if (partial) {
        // The resident that answered first, then the others it named (Synapse tries them in that order).
        const servers = [...new Set([server, ...(Array.isArray(inRoom) ? inRoom.filter((s): s is string => typeof s === 'string') : [])])];
        const ts = (this.deps.clock ?? Date.now)();
        await partialJoins.begin(roomId, { joinEventId: eventId, serversInRoom: servers, roomVersion: made.rules.id, ts });
      }
      try {
        await this.deps.ingest.ingestJoinedRoom(made.rules.id, finalJoin, state as Pdu[], authChain as Pdu[], server);
      } catch (err) {
        if (partial) await partialJoins.abandon(roomId);
        throw err;
      }
      if (partial) partialJoins.joined(roomId);
      return { roomId };
    }
    throw lastError ?? notFound(`Could not join ${roomIdOrAlias}`);
  }

  private async makeJoin(
    server: string,
    roomId: string,
    userId: string,
  ): Promise<{ ok: true; template: JsonObject; rules: RoomVersionRules } | { ok: false; error: MatrixError; final: boolean }> {
    const ver = knownRoomVersions()
      .map((v) => `ver=${enc(v.id)}`)
      .join('&');
    const res = await this.deps.client.request<{ event?: unknown; room_version?: unknown }>({
      destination: server,
      method: 'GET',
      path: `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}?${ver}`,
    });
    if (!res.ok) return { ok: false, error: makeJoinError(res, server), final: isRefusal(res) };
    const versionId = typeof res.body?.room_version === 'string' ? res.body.room_version : '1'; // joins.yaml: absent means v1
    const rules = roomVersion(versionId);
    if (rules === undefined) {
      return { ok: false, error: new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${versionId} is not supported`), final: true };
    }
    const t = res.body?.event;
    if (!isObject(t) || t.type !== 'm.room.member' || t.state_key !== userId || t.sender !== userId || !Array.isArray(t.prev_events) || !Array.isArray(t.auth_events)) {
      return { ok: false, error: new MatrixError(502, 'M_UNKNOWN', `make_join via ${server}: malformed template`), final: false };
    }
    return { ok: true, template: t as JsonObject, rules };
  }

  /** The template with our content and time, hashed and signed by us. */
  private completeJoin(template: JsonObject, rules: RoomVersionRules, userId: string, content: Record<string, unknown>): Pdu {
    const { signatures: _s, hashes: _h, unsigned: _u, event_id: _e, ...rest } = template;
    const tplContent = isObject(template.content) ? template.content : {};
    const joinContent: JsonObject = { ...(content as JsonObject), membership: 'join' };
    // Restricted rooms: the resident names the member that authorises us (joins.yaml).
    if (typeof tplContent.join_authorised_via_users_server === 'string') {
      joinContent.join_authorised_via_users_server = tplContent.join_authorised_via_users_server;
    }
    const pdu = { ...rest, sender: userId, state_key: userId, content: joinContent, origin_server_ts: (this.deps.clock ?? Date.now)() } as unknown as Pdu;
    if (rules.eventIdFormat === 'v1') pdu.event_id = `$${randomBytes(12).toString('base64url')}:${this.deps.serverName}`;
    return hashAndSignEvent(pdu, rules, this.deps.serverName, this.deps.signingKey);
  }
}

function isRefusal(f: FederationFailure): boolean {
  return f.kind === 'http' && (f.status === 403 || (f.status === 400 && f.errcode === 'M_INCOMPATIBLE_ROOM_VERSION'));
}

function makeJoinError(f: FederationFailure, server: string): MatrixError {
  return asClientError(f, `make_join via ${server} failed`);
}

function isSameJoin(event: unknown, ours: Pdu, rules: RoomVersionRules): boolean {
  if (!isObject(event)) return false;
  try {
    return eventIdOf(event as unknown as Pdu, rules) === eventIdOf(ours, rules);
  } catch {
    return false;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
