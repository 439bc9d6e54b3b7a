// Test fixtures: tiny rooms built from fake events (IDs, hashes and signatures are
// irrelevant to the auth rules, so they are placeholders).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import type { JsonObject, Pdu, RoomEvent } from '../types.js';
import { checkEventAuth } from './checkAuth.js';
import { stateFromEvents } from './stateLookup.js';
import { ruleNumber } from './ruleNumbers.js';
import type { AuthOptions, AuthResult, StateLookup } from './types.js';

export const ALICE = '@alice:a.example'; // the creator
export const BOB = '@bob:b.example';
export const CAROL = '@carol:c.example';
export const DAVE = '@dave:a.example';

export const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
export const MODERN_VERSIONS = ['10', '11', '12'];
export const versionsFrom = (from: number, to = 12): string[] =>
  ALL_VERSIONS.filter((v) => Number(v) >= from && Number(v) <= to);

export interface EventSpec {
  type: string;
  sender?: string;
  state_key?: string;
  content?: JsonObject;
  prev_events?: string[];
  redacts?: string;
  eventId?: string;
  roomId?: string;
}

export interface RoomSpec {
  joinRule?: string;
  /** Extra `users` entries for the power levels event (the creator gets 100 before v12). */
  users?: Record<string, number | string>;
  /** Other power level properties. */
  levels?: JsonObject;
  /** Omit the power levels event entirely. */
  noPowerLevels?: boolean;
  /** Memberships besides the creator's join, e.g. `{ [BOB]: 'join' }`. */
  members?: Record<string, string>;
}

export interface Fixture {
  rules: RoomVersionRules;
  roomId: string;
  create: RoomEvent;
  event(spec: EventSpec): RoomEvent;
  member(target: string, membership: string, sender?: string, content?: JsonObject): RoomEvent;
  powerLevels(content: JsonObject, sender?: string): RoomEvent;
  /** The creator's join plus the usual state (power levels, join rules, other members). */
  room(spec?: RoomSpec): RoomEvent[];
  /** Lookup over the create event plus `events`. */
  state(events: RoomEvent[]): StateLookup;
  check(event: RoomEvent, authState: RoomEvent[], opts?: AuthOptions): AuthResult;
}

/** A room of the given version created by ALICE; `createContent` is merged into the create content. */
export function fixture(version: string, createContent: JsonObject = {}): Fixture {
  const rules = roomVersion(version);
  if (rules === undefined) throw new Error(`unknown room version ${version}`);
  let counter = 0;
  const nextId = (sender: string): string =>
    rules.eventIdFormat === 'v1' ? `$e${++counter}:${sender.slice(sender.indexOf(':') + 1)}` : `$event${++counter}`;

  const createId = rules.roomIdIsCreateEventHash ? '$' + 'C'.repeat(43) : nextId(ALICE);
  const roomId = rules.roomIdIsCreateEventHash ? '!' + createId.slice(1) : '!room:a.example';
  const baseCreate: JsonObject = { room_version: version };
  if (!rules.creatorIsSender) baseCreate.creator = ALICE;
  const createPdu = pdu({ type: 'm.room.create', sender: ALICE, state_key: '', content: { ...baseCreate, ...createContent } });
  if (rules.roomIdIsCreateEventHash) delete createPdu.room_id;
  if (rules.eventIdFormat === 'v1') createPdu.event_id = createId;
  const create: RoomEvent = { eventId: createId, roomId, pdu: createPdu };

  function pdu(spec: EventSpec): Pdu {
    const p: Pdu = {
      room_id: spec.roomId ?? roomId,
      sender: spec.sender ?? ALICE,
      origin_server_ts: 1_700_000_000_000,
      type: spec.type,
      content: spec.content ?? {},
      prev_events: spec.prev_events ?? [],
      auth_events: [],
      depth: 1,
      hashes: { sha256: 'placeholder' },
      signatures: {},
    };
    if (spec.state_key !== undefined) p.state_key = spec.state_key;
    if (spec.redacts !== undefined) p.redacts = spec.redacts;
    return p;
  }

  const event = (spec: EventSpec): RoomEvent => {
    const p = pdu({ prev_events: [create.eventId], ...spec });
    const eventId = spec.eventId ?? nextId(p.sender);
    if (rules.eventIdFormat === 'v1') p.event_id = eventId;
    return { eventId, roomId: spec.roomId ?? roomId, pdu: p };
  };
  const member = (target: string, membership: string, sender = target, content: JsonObject = {}): RoomEvent =>
    event({ type: 'm.room.member', sender, state_key: target, content: { membership, ...content } });
  const powerLevels = (content: JsonObject, sender = ALICE): RoomEvent =>
    event({ type: 'm.room.power_levels', sender, state_key: '', content });
  const state = (events: RoomEvent[]): StateLookup => stateFromEvents([create, ...events]);

  const room = (spec: RoomSpec = {}): RoomEvent[] => {
    const out = [member(ALICE, 'join')];
    if (!spec.noPowerLevels) {
      const users: JsonObject = rules.privilegedCreators ? {} : { [ALICE]: 100 };
      out.push(powerLevels({ ...spec.levels, users: { ...users, ...spec.users } }));
    }
    out.push(event({ type: 'm.room.join_rules', state_key: '', content: { join_rule: spec.joinRule ?? 'public' } }));
    for (const [user, m] of Object.entries(spec.members ?? {})) {
      out.push(member(user, m, m === 'invite' || m === 'ban' ? ALICE : user));
    }
    return out;
  };

  return {
    rules,
    roomId,
    create,
    event,
    member,
    powerLevels,
    room,
    state,
    check: (ev, authState, opts) => checkEventAuth(ev, state(authState), rules, opts),
  };
}

/** One row of an auth table: built per room version, expecting a verdict (and the rule that fails). */
export interface AuthCase {
  /** Test name, starting "it should". */
  description: string;
  versions: string[];
  createContent?: JsonObject;
  build(fx: Fixture): { authState: RoomEvent[]; event: RoomEvent; opts?: AuthOptions };
  allowed: boolean;
  /** Rule path (see ruleNumbers.ts) the rejection must name. */
  rule?: string;
}

export function runAuthCases(cases: AuthCase[]): void {
  for (const c of cases) {
    for (const v of c.versions) {
      test(`${c.description} (v${v})`, () => {
        const fx = fixture(v, c.createContent);
        const { authState, event, opts } = c.build(fx);
        const result = fx.check(event, authState, opts);
        if (c.allowed) {
          assert.deepEqual(result, { allowed: true });
        } else {
          assert.equal(result.allowed, false, 'expected a rejection');
          if (!result.allowed && c.rule !== undefined) {
            assert.equal(result.rule.split(' ')[0], ruleNumber(fx.rules, c.rule), `wrong rule: ${result.rule}`);
            assert.ok(result.reason.length > 0);
          }
        }
      });
    }
  }
}
