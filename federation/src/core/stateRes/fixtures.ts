// Test fixtures: hand-built auth DAGs with fake event IDs. Events cite the auth events
// the auth events selection picks from a given state, so they look like real traffic.
import { authEventTypesFor } from '../auth/authEventsSelection.js';
import { checkEventAuth } from '../auth/checkAuth.js';
import type { StateLookup } from '../auth/types.js';
import type { RoomVersionRules } from '../roomVersions.js';
import { type JsonObject, type Pdu, type RoomEvent, type StateKey, stateKeyOf } from '../types.js';

export type State = ReadonlyMap<StateKey, string>;

export const ALICE = '@alice:a.example';
export const BOB = '@bob:b.example';
export const CAROL = '@carol:c.example';
export const DAVE = '@dave:d.example';

export interface EventSpec {
  /** Defaults to `$e<n>`. */
  id?: string;
  type: string;
  /** Omit for a message (non-state) event. */
  stateKey?: string;
  sender: string;
  content?: JsonObject;
  /** Defaults to a clock that ticks by 1 per event. */
  ts?: number;
}

export const member = (sender: string, target: string, membership: string, extra: Partial<EventSpec> = {}): EventSpec => ({
  type: 'm.room.member',
  stateKey: target,
  sender,
  content: { membership },
  ...extra,
});

export class RoomFixture {
  readonly events = new Map<string, RoomEvent>();
  readonly roomId: string;
  readonly createId: string;
  private clock = 0;
  private lastId: string | undefined;

  constructor(readonly rules: RoomVersionRules, createId = '$create') {
    this.createId = createId;
    this.roomId = rules.roomIdIsCreateEventHash ? '!' + createId.slice(1) : '!room:a.example';
  }

  readonly getEvent = (id: string): RoomEvent | undefined => this.events.get(id);

  /** The event `id` (throws if unknown, to catch typos in tests). */
  event(id: string): RoomEvent {
    const ev = this.events.get(id);
    if (ev === undefined) throw new Error(`fixture has no event ${id}`);
    return ev;
  }

  /** Add an event citing exactly `auth`. */
  add(spec: EventSpec, auth: readonly string[], prev?: readonly string[]): RoomEvent {
    const id = spec.id ?? `$e${this.events.size}`;
    if (this.events.has(id)) throw new Error(`fixture already has ${id}`);
    const ts = spec.ts ?? ++this.clock;
    this.clock = Math.max(this.clock, ts);
    const isCreate = spec.type === 'm.room.create';
    const pdu: Pdu = {
      sender: spec.sender,
      origin_server_ts: ts,
      type: spec.type,
      content: spec.content ?? {},
      prev_events: isCreate ? [] : [...(prev ?? (this.lastId === undefined ? [] : [this.lastId]))],
      auth_events: [...auth],
      depth: this.events.size + 1,
      hashes: { sha256: 'fake' },
      signatures: {},
    };
    if (spec.stateKey !== undefined) pdu.state_key = spec.stateKey;
    if (!(isCreate && this.rules.roomIdIsCreateEventHash)) pdu.room_id = this.roomId;
    if (this.rules.eventIdFormat === 'v1') pdu.event_id = id;
    const ev: RoomEvent = { eventId: id, roomId: this.roomId, pdu };
    this.events.set(id, ev);
    this.lastId = id;
    return ev;
  }

  /** Auth events the selection rules pick for `spec` from `state`. */
  authFor(state: State, spec: EventSpec): string[] {
    const probe = { type: spec.type, sender: spec.sender, state_key: spec.stateKey, content: spec.content ?? {} } as Pdu;
    const ids: string[] = [];
    for (const [t, k] of authEventTypesFor(probe, this.rules)) {
      const id = state.get(stateKeyOf(t, k));
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  /** Add a state event sent on top of `state` (unchecked); returns the state after it. */
  send(state: State, spec: EventSpec): Map<StateKey, string> {
    if (spec.stateKey === undefined) throw new Error('send() is for state events');
    const ev = this.add(spec, this.authFor(state, spec));
    return new Map(state).set(stateKeyOf(spec.type, spec.stateKey), ev.eventId);
  }

  /** Like send(), but only if the auth rules allow it against `state`; otherwise adds nothing. */
  trySend(state: State, spec: EventSpec): Map<StateKey, string> | undefined {
    if (spec.stateKey === undefined) throw new Error('trySend() is for state events');
    const probe: RoomEvent = {
      eventId: '$probe',
      roomId: this.roomId,
      pdu: {
        sender: spec.sender,
        origin_server_ts: 0,
        type: spec.type,
        state_key: spec.stateKey,
        content: spec.content ?? {},
        prev_events: ['$probePrev'],
        auth_events: [],
        depth: 1,
        hashes: { sha256: '' },
        signatures: {},
      },
    };
    const verdict = checkEventAuth(probe, this.lookup(state), this.rules, { createEventId: this.createId });
    return verdict.allowed ? this.send(state, spec) : undefined;
  }

  /** A StateLookup over `state` (for checking results against the auth rules). */
  lookup(state: State): StateLookup {
    return (type, stateKey) => {
      const id = state.get(stateKeyOf(type, stateKey)) ?? (type === 'm.room.create' && stateKey === '' ? this.createId : undefined);
      return id === undefined ? undefined : this.events.get(id)?.pdu;
    };
  }

  /**
   * create → creator joins → power levels → join rules. `users` are extra power levels
   * (creators are left out in v12, where they are implicitly infinite). A second call
   * with another `createId` forks the room's creation (before v12, where IDs allow it).
   */
  createRoom(
    creator: string,
    opts: { joinRule?: string; users?: Record<string, number>; ts?: number; createId?: string } = {},
  ): Map<StateKey, string> {
    const createContent: JsonObject = { room_version: this.rules.id };
    if (!this.rules.creatorIsSender) createContent.creator = creator;
    const create = this.add({ id: opts.createId ?? this.createId, type: 'm.room.create', stateKey: '', sender: creator, content: createContent, ts: opts.ts }, []);
    let state: Map<StateKey, string> = new Map([[stateKeyOf('m.room.create', ''), create.eventId]]);
    state = this.send(state, member(creator, creator, 'join'));
    const users: JsonObject = { ...(opts.users ?? {}) };
    if (!this.rules.privilegedCreators) users[creator] = 100;
    state = this.send(state, { type: 'm.room.power_levels', stateKey: '', sender: creator, content: { users } });
    return this.send(state, { type: 'm.room.join_rules', stateKey: '', sender: creator, content: { join_rule: opts.joinRule ?? 'public' } });
  }
}
