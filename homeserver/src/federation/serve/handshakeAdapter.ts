// MembershipHandshakePort: the resident side of make_join/send_join, make_leave/send_leave,
// make_knock/send_knock, and the invited side of /invite. Templates are built on the room's
// forward extremities and checked against its current state; the signed events that come
// back go through the ordinary ingest (every check on receipt) and are passed on to the
// room's other servers. Spec: server-server-api.md "Joining Rooms", "Knocking upon a room",
// "Leaving Rooms (Rejecting Invites)", "Inviting to a room".
import { FederationError, fedBadJson, fedForbidden, fedIncompatibleVersion, fedNotFound } from '@parley/federation/api/errors';
import { authEventTypesFor, checkEventAuth } from '@parley/federation/core/auth/index';
import { referenceHashObject, toWire, usesRefPairs } from '@parley/federation/core/eventRefs';
import { serverNameOf } from '@parley/federation/core/ids';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { JsonObject, Pdu, RoomEvent } from '@parley/federation/core/types';
import type { HandshakeMembership, MembershipHandshakePort } from '@parley/federation/ports';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { signEvent } from '@parley/federation/signing/signEvent';
import type { StoredRoomReader } from '../../rooms/roomReader.js';
import { currentLookup } from '../../rooms/stateLookups.js';
import type { StoredEvent } from '../../rooms/types.js';
import { parsePdu, verifyPdu, type SignatureChecker } from '../ingest/receivedPdu.js';
import type { RemoteIngest } from '../ingest/remoteIngest.js';
import { assertAclAllows } from './access.js';
import { federationPdu } from './roomEventsAdapter.js';

export interface HandshakeDeps {
  serverName: string;
  signingKey: SigningKey;
  reader: Pick<StoredRoomReader, 'roomVersion' | 'currentStateEvent' | 'members' | 'getEvent' | 'getEvents' | 'stateBefore' | 'forwardExtremities' | 'currentState'>;
  ingest: Pick<RemoteIngest, 'ingestPdus' | 'ingestInvite'>;
  keys: SignatureChecker;
  /** Pass an accepted remote event on to the room's other servers (except `exclude`). */
  forward?: (roomId: string, eventId: string, exclude: string[]) => void;
  /** Rooms this server joined with partial state (MSC3706): it cannot act as their resident yet. */
  partialState?: { isPartial(roomId: string): boolean; awaitFullState(roomId: string): Promise<void> };
  /** How long make_* waits for a partial room's resync before refusing (default 10 s). */
  partialStateWaitMs?: number;
  now?: () => number;
}

/** At most this many prev_events in a template (as local events). */
const MAX_PREV = 10;
/** knock_room_state / invite stripped state: client-server-api "Stripped state". */
const STRIPPED_TYPES = ['m.room.create', 'm.room.join_rules', 'm.room.name', 'm.room.avatar', 'm.room.canonical_alias', 'm.room.encryption', 'm.room.topic'];

export class MembershipHandshakeAdapter implements MembershipHandshakePort {
  constructor(private readonly deps: HandshakeDeps) {}

  async make(origin: string, roomId: string, userId: string, membership: HandshakeMembership, versions: string[] | undefined): Promise<{ roomVersion: string; event: JsonObject }> {
    const version = await assertAclAllows(this.deps.reader, origin, roomId);
    if (serverNameOf(userId) !== origin) throw fedForbidden('The user does not belong to the requesting server');
    // Without the room's full state our template (and send_join's state) could be wrong. A
    // small room's resync takes moments, so wait a little; then answer as if not in the room,
    // so the joining server asks another resident (Synapse refuses at once while partially joined).
    if (this.deps.partialState?.isPartial(roomId) && !(await this.fullStateWithin(roomId, this.deps.partialStateWaitMs ?? 10_000))) {
      throw fedNotFound(`Unable to handle make_${membership} right now; this server is not fully joined`);
    }
    if (versions && !versions.includes(version)) throw fedIncompatibleVersion(version);
    const rules = roomVersion(version)!;
    const extremities = [...(await this.deps.reader.forwardExtremities(roomId))].sort((a, b) => b.depth - a.depth).slice(0, MAX_PREV);
    const pdu: Pdu = {
      room_id: roomId,
      type: 'm.room.member',
      sender: userId,
      state_key: userId,
      content: { membership },
      origin_server_ts: (this.deps.now ?? Date.now)(),
      depth: Math.max(0, ...extremities.map((x) => x.depth)) + 1,
      prev_events: extremities.map((x) => x.eventId),
      auth_events: [],
      hashes: { sha256: '' },
      signatures: {},
    };
    const keys = authEventTypesFor(pdu, rules);
    const authEvents = await Promise.all(keys.map(([t, k]) => this.deps.reader.currentStateEvent(roomId, t, k)));
    const auth = authEvents.filter((e): e is StoredEvent => e !== undefined);
    pdu.auth_events = auth.map((e) => e.eventId);
    // Refuse now what the room would refuse later (Synapse does the same).
    const lookup = await currentLookup(this.deps.reader, roomId, [['m.room.create', ''], ['m.room.power_levels', ''], ...keys]);
    const createEventId = rules.roomIdIsCreateEventHash ? '$' + roomId.slice(1) : (await this.deps.reader.currentStateEvent(roomId, 'm.room.create', ''))?.eventId;
    const res = checkEventAuth({ eventId: '$template', roomId, pdu }, lookup, rules, createEventId ? { createEventId } : {});
    if (!res.allowed) throw fedForbidden(`${res.reason} (auth rule ${res.rule})`);
    // v1/v2: the joining server signs the reference pairs we hand it (rooms/v1.md "Event format").
    const refs = usesRefPairs(rules) ? { prev: await this.refsTo(pdu.prev_events, rules), auth: auth.map((e) => referenceHashObject(e, rules)) } : undefined;
    const { hashes: _h, signatures: _s, ...template } = toWire(pdu, refs);
    return { roomVersion: version, event: template as JsonObject };
  }

  /** The reference hash objects of the given (stored) events, in order. */
  private async refsTo(eventIds: string[], rules: RoomVersionRules): Promise<JsonObject[]> {
    const events = await this.deps.reader.getEvents(eventIds);
    return events.map((e, i) => {
      if (!e) throw new FederationError(500, 'M_UNKNOWN', `Missing event ${eventIds[i]}`);
      return referenceHashObject(e, rules);
    });
  }

  /** True once the room has its full state, false if that takes longer than `ms`. */
  private async fullStateWithin(roomId: string, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
    try {
      return await Promise.race([this.deps.partialState!.awaitFullState(roomId).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async sendJoin(origin: string, roomId: string, eventId: string, event: unknown, omitMembers: boolean): Promise<JsonObject> {
    const { rules, ev } = await this.checkHandshakeEvent(origin, roomId, eventId, event, 'join');
    // The answer carries the room's state: not while we lack it ourselves (see make).
    if (this.deps.partialState?.isPartial(roomId) && !(await this.fullStateWithin(roomId, this.deps.partialStateWaitMs ?? 10_000))) {
      throw fedNotFound('Unable to handle send_join right now; this server is not fully joined');
    }
    // The resident co-signs the join (server-server-api.md "Joining Rooms").
    const signed = signEvent(ev.pdu, rules, this.deps.serverName, this.deps.signingKey);
    const stored = await this.accept(origin, { ...ev, pdu: signed });
    const before = (await this.deps.reader.stateBefore(eventId)) ?? new Map();
    const stateEvents = (await this.deps.reader.getEvents([...before.values()])).filter(isStored);
    const chain = await this.authChain([...stateEvents.flatMap((e) => e.pdu.auth_events), ...stored.pdu.auth_events]);
    const joinedServers = new Set<string>();
    for (const m of await this.deps.reader.members(roomId)) {
      const s = serverNameOf(m.userId);
      if (m.member.membership === 'join' && s !== undefined) joinedServers.add(s);
    }
    // Partial state (MSC3706): leave out member events, except the ones auth needs.
    const state = omitMembers ? stateEvents.filter((e) => e.pdu.type !== 'm.room.member' || chain.has(e.eventId)) : stateEvents;
    return {
      origin: this.deps.serverName,
      event: federationPdu(stored) as unknown as JsonObject,
      state: state.map(federationPdu) as unknown as JsonObject[],
      auth_chain: [...chain.values()].map(federationPdu) as unknown as JsonObject[],
      members_omitted: omitMembers,
      ...(omitMembers ? { servers_in_room: [...joinedServers] } : {}),
    };
  }

  async sendLeave(origin: string, roomId: string, eventId: string, event: unknown): Promise<void> {
    const { ev } = await this.checkHandshakeEvent(origin, roomId, eventId, event, 'leave');
    await this.accept(origin, ev);
  }

  async sendKnock(origin: string, roomId: string, eventId: string, event: unknown): Promise<JsonObject> {
    const { ev } = await this.checkHandshakeEvent(origin, roomId, eventId, event, 'knock');
    await this.accept(origin, ev);
    const state = await this.deps.reader.currentState(roomId);
    const ids = STRIPPED_TYPES.map((t) => state.get(`${t}\u0000`)).filter((id): id is string => id !== undefined);
    const events = (await this.deps.reader.getEvents(ids)).filter(isStored);
    return {
      // knocks.yaml (v1.16+): full PDUs in the room version's format, including m.room.create.
      knock_room_state: events.map((e) => federationPdu(e) as unknown as JsonObject),
    };
  }

  async invite(origin: string, roomId: string, eventId: string, version: string, event: unknown, inviteRoomState: unknown[]): Promise<Pdu> {
    const rules = roomVersion(version);
    if (!rules) throw fedIncompatibleVersion(version);
    const ev = await this.parseSigned(event, rules, eventId, roomId);
    const { pdu } = ev;
    if (pdu.type !== 'm.room.member' || pdu.content.membership !== 'invite' || typeof pdu.state_key !== 'string') {
      throw fedBadJson('The event is not an invite');
    }
    if (serverNameOf(pdu.state_key) !== this.deps.serverName) throw fedForbidden('The invited user is not on this server');
    if (serverNameOf(pdu.sender) !== origin) throw fedForbidden('The inviter does not belong to the requesting server');
    const known = await this.deps.reader.roomVersion(roomId);
    if (known !== undefined) await assertAclAllows(this.deps.reader, origin, roomId);
    const signed = signEvent(pdu, rules, this.deps.serverName, this.deps.signingKey);
    await this.deps.ingest.ingestInvite(version, signed, inviteRoomState);
    return signed;
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** The room is known, the event parses, is signed, is the one the path names, and is `membership` of a user of `origin`. */
  private async checkHandshakeEvent(
    origin: string,
    roomId: string,
    eventId: string,
    raw: unknown,
    membership: HandshakeMembership,
  ): Promise<{ rules: RoomVersionRules; ev: RoomEvent }> {
    const version = await assertAclAllows(this.deps.reader, origin, roomId);
    const rules = roomVersion(version)!;
    const ev = await this.parseSigned(raw, rules, eventId, roomId);
    const { pdu } = ev;
    if (pdu.type !== 'm.room.member' || pdu.content.membership !== membership) throw fedBadJson(`The event is not a ${membership} event`);
    if (pdu.state_key !== pdu.sender) throw fedBadJson('state_key must be the sender');
    if (serverNameOf(pdu.sender) !== origin) throw fedForbidden('The sender does not belong to the requesting server');
    return { rules, ev };
  }

  private async parseSigned(raw: unknown, rules: RoomVersionRules, eventId: string, roomId: string): Promise<RoomEvent> {
    const parsed = parsePdu(raw, rules);
    if (!parsed.ok) throw fedBadJson(parsed.error);
    if (parsed.event.eventId !== eventId) throw fedBadJson('The event ID does not match the event');
    if (parsed.event.roomId !== roomId) throw fedBadJson('The room ID does not match the event');
    const verified = await verifyPdu(parsed.event, rules, this.deps.keys);
    if (!verified.ok) throw fedForbidden(verified.error);
    if (verified.event.redactedOnReceipt) throw fedBadJson('The content hash does not match the event');
    return { eventId, roomId, pdu: raw as Pdu };
  }

  /** Run the event through the ingest; it must end up in the room (not rejected or soft-failed). */
  private async accept(origin: string, ev: RoomEvent): Promise<StoredEvent> {
    const res = (await this.deps.ingest.ingestPdus(origin, [ev.pdu])).get(ev.eventId);
    if (!res) throw new FederationError(500, 'M_UNKNOWN', 'The event was not processed');
    if (res.error) throw fedForbidden(res.error);
    const stored = await this.deps.reader.getEvent(ev.eventId);
    if (!stored || stored.softFailed || stored.rejected !== undefined) throw fedForbidden('The event is not allowed by the current state of the room');
    this.deps.forward?.(ev.roomId, ev.eventId, [origin, this.deps.serverName]);
    return stored;
  }

  private async authChain(start: string[]): Promise<Map<string, StoredEvent>> {
    const out = new Map<string, StoredEvent>();
    let frontier = [...new Set(start)];
    while (frontier.length > 0) {
      const next = new Set<string>();
      for (const e of (await this.deps.reader.getEvents(frontier)).filter(isStored)) {
        if (out.has(e.eventId)) continue;
        out.set(e.eventId, e);
        for (const a of e.pdu.auth_events) if (!out.has(a)) next.add(a);
      }
      frontier = [...next];
    }
    return out;
  }
}

const isStored = (e: StoredEvent | undefined): e is StoredEvent => e !== undefined && e.rejected === undefined;
