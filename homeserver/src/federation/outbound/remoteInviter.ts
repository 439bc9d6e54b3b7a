// Inviting a user of another server: the invite we built and signed goes to the invitee's
// server (PUT /v2/invite), which countersigns it, or refuses (403 passes on to our client).
// The returned event must be ours (same event ID) and carry a valid signature of the
// invitee's server. Spec: server-server-api.md "Inviting to a room" (invites-v2.yaml).
import { eventIdOf } from '@parley/federation/core/eventId';
import { toWire } from '@parley/federation/core/eventRefs';
import { serverNameOf } from '@parley/federation/core/ids';
import { redact } from '@parley/federation/core/redaction';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu, RoomEvent } from '@parley/federation/core/types';
import { keyValidityTs } from '@parley/federation/signing/keyRing';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import { MatrixError } from '../../http/errors.js';
import type { RemoteInviter } from '../../rooms/ports.js';
import { asClientError } from './remoteFailure.js';

export interface RemoteInviterDeps {
  client: FederationRequester;
  keys: { verifyJsonSignedBy(obj: JsonObject, serverName: string, atTs: number): Promise<boolean> };
}

const enc = encodeURIComponent;

export class FederationRemoteInviter implements RemoteInviter {
  readonly enabled = true;

  constructor(private readonly deps: RemoteInviterDeps) {}

  async invite(version: string, event: RoomEvent, inviteRoomState: Pdu[]): Promise<RoomEvent> {
    const rules = roomVersion(version);
    const invitee = typeof event.pdu.state_key === 'string' ? event.pdu.state_key : '';
    const destination = serverNameOf(invitee);
    if (!rules || destination === undefined) throw new MatrixError(400, 'M_INVALID_PARAM', `Cannot invite ${invitee}`);
    const res = await this.deps.client.request<{ event?: unknown }>({
      destination,
      method: 'PUT',
      path: `/_matrix/federation/v2/invite/${enc(event.roomId)}/${enc(event.eventId)}`,
      body: { event: toWire(event.pdu, event.refHashes), room_version: version, invite_room_state: inviteRoomState } as unknown as JsonObject,
    });
    if (!res.ok) throw asClientError(res, `invite via ${destination} failed`);
    const returned = res.body?.event;
    const bad = (why: string) => new MatrixError(502, 'M_UNKNOWN', `${destination} answered the invite with ${why}`);
    if (typeof returned !== 'object' || returned === null || Array.isArray(returned)) throw bad('no event');
    const pdu = returned as Pdu;
    let id: string;
    try {
      id = eventIdOf(pdu, rules);
    } catch {
      throw bad('a malformed event');
    }
    // Same redacted form ⇒ same event: they may only have added their signature.
    if (id !== event.eventId) throw bad('a different event');
    const signed = await this.deps.keys.verifyJsonSignedBy(redact(pdu, rules) as unknown as JsonObject, destination, keyValidityTs(rules, pdu.origin_server_ts));
    if (!signed) throw bad('an event it did not sign');
    // Our own content (not theirs) is what we write; only the signatures are taken.
    return { ...event, pdu: { ...event.pdu, signatures: { ...pdu.signatures, ...event.pdu.signatures } } };
  }
}
