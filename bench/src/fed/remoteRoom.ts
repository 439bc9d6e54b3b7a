// A room as a generated remote server holds it: every PDU it knows, the current state,
// the forward extremity, and the history of state (to answer /state at any event).
// Events it creates are hashed and signed with its own key (room version rules from
// federation/src/core); events it receives (e.g. a joiner's) are taken as they are.
import { authEventTypesFor } from '@parley/federation/core/auth/authEventsSelection';
import { eventIdOf, roomIdOfCreateEvent } from '@parley/federation/core/eventId';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type JsonObject, type Pdu, type StateKey } from '@parley/federation/core/types';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';

export interface NewEvent {
  type: string;
  stateKey?: string;
  sender: string;
  content: JsonObject;
}

export class RemoteRoom {
  roomId = '';
  readonly events = new Map<string, Pdu>();
  /** Insertion order (a topological order: every event after its prev and auth events). */
  readonly order: string[] = [];
  readonly state = new Map<StateKey, string>();
  head: string[] = [];
  depth = 0;
  private clock = Date.now();

  constructor(
    readonly rules: RoomVersionRules,
    readonly origin: string,
    readonly key: SigningKey,
  ) {}

  /** A new event on top of the current state and extremity, signed by this server (not added). */
  build(e: NewEvent): { id: string; pdu: Pdu } {
    const probe = { type: e.type, sender: e.sender, state_key: e.stateKey, content: e.content } as unknown as Pdu;
    const auth = authEventTypesFor(probe, this.rules)
      .map(([t, k]) => this.state.get(stateKeyOf(t, k)))
      .filter((x): x is string => x !== undefined);
    const pdu: Pdu = {
      type: e.type,
      sender: e.sender,
      content: e.content,
      origin_server_ts: ++this.clock,
      prev_events: [...this.head],
      auth_events: auth,
      depth: this.depth + 1,
      hashes: { sha256: '' },
      signatures: {},
    };
    if (e.stateKey !== undefined) pdu.state_key = e.stateKey;
    if (!(e.type === 'm.room.create' && this.rules.roomIdIsCreateEventHash)) pdu.room_id = this.roomId;
    const signed = hashAndSignEvent(pdu, this.rules, this.origin, this.key);
    if (e.type === 'm.room.create') {
      this.roomId = roomIdOfCreateEvent(signed, this.rules);
    }
    return { id: eventIdOf(signed, this.rules), pdu: signed };
  }

  /** Build, sign and append. */
  send(e: NewEvent): string {
    const { id, pdu } = this.build(e);
    this.add(id, pdu);
    return id;
  }

  /** Append an event (ours or another server's) as the new extremity. */
  add(id: string, pdu: Pdu): void {
    this.events.set(id, pdu);
    this.order.push(id);
    if (typeof pdu.state_key === 'string') this.state.set(stateKeyOf(pdu.type, pdu.state_key), id);
    this.head = [id];
    this.depth = Math.max(this.depth, pdu.depth);
  }

  /** Learn a room from a send_join answer: state and auth chain become known, the join the extremity. */
  importJoin(joinId: string, join: Pdu, state: Pdu[], authChain: Pdu[]): void {
    if (typeof join.room_id === 'string') this.roomId = join.room_id;
    for (const p of [...authChain, ...state]) {
      const id = eventIdOf(p, this.rules);
      if (!this.events.has(id)) {
        this.events.set(id, p);
        this.order.push(id);
      }
      if (p.type === 'm.room.create' && !this.roomId) this.roomId = roomIdOfCreateEvent(p, this.rules);
    }
    for (const p of state) if (typeof p.state_key === 'string') this.state.set(stateKeyOf(p.type, p.state_key), eventIdOf(p, this.rules));
    this.depth = Math.max(0, ...state.map((p) => p.depth));
    this.add(joinId, join);
  }

  /** A fresh room: create, creator's join, power levels, join rules (public), history visibility, name. */
  create(creator: string, name: string): void {
    const createContent: JsonObject = { room_version: this.rules.id };
    if (!this.rules.creatorIsSender) createContent.creator = creator;
    this.send({ type: 'm.room.create', stateKey: '', sender: creator, content: createContent });
    this.send({ type: 'm.room.member', stateKey: creator, sender: creator, content: { membership: 'join' } });
    const users: JsonObject = this.rules.privilegedCreators ? {} : { [creator]: 100 };
    this.send({ type: 'm.room.power_levels', stateKey: '', sender: creator, content: { users, users_default: 0, events_default: 0, state_default: 50, invite: 0 } });
    this.send({ type: 'm.room.join_rules', stateKey: '', sender: creator, content: { join_rule: 'public' } });
    this.send({ type: 'm.room.history_visibility', stateKey: '', sender: creator, content: { history_visibility: 'shared' } });
    this.send({ type: 'm.room.name', stateKey: '', sender: creator, content: { name } });
  }

  /** The auth chain (ids) of the given events, excluding them unless reached from another. */
  authChain(ids: Iterable<string>): Set<string> {
    const out = new Set<string>();
    const stack: string[] = [];
    for (const id of ids) stack.push(...(this.events.get(id)?.auth_events ?? []));
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (out.has(id)) continue;
      out.add(id);
      for (const a of this.events.get(id)?.auth_events ?? []) if (!out.has(a)) stack.push(a);
    }
    return out;
  }

  /** The state before `eventId` (replayed from the start: fine for the few queries a join makes). */
  stateBefore(eventId: string): Map<StateKey, string> | undefined {
    if (!this.events.has(eventId)) return undefined;
    const s = new Map<StateKey, string>();
    for (const id of this.order) {
      if (id === eventId) return s;
      const p = this.events.get(id)!;
      if (typeof p.state_key === 'string') s.set(stateKeyOf(p.type, p.state_key), id);
    }
    return s;
  }
}
