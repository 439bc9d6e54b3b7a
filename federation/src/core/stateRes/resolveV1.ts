// State resolution v1 (room version 1 only). Spec: rooms/v1.md "State resolution".
// Where the prose is loose, this does what Synapse does (synapse/state/v1.py), since
// v1 rooms only exist alongside Synapse servers and every server must agree:
// - a key is conflicted only when the state sets that have it disagree (a key missing
//   from some sets is not a conflict);
// - events are judged against the unconflicted state's entries for their auth event
//   types, plus what earlier passes resolved — not against the whole partial state;
// - the auth passes run per key (power levels, then each join rules key, then each
//   member key) in ascending depth, descending sha1(event_id), keeping the last event
//   that passed before the first failure;
// - every other key takes the first event, by descending depth then ascending
//   sha1(event_id), that passes auth, else the last one in that order.
// Events the caller could not provide are left out of their conflict (as Synapse does).
import { createHash } from 'node:crypto';
import { authEventTypesFor } from '../auth/authEventsSelection.js';
import { checkEventAuth } from '../auth/checkAuth.js';
import type { StateLookup } from '../auth/types.js';
import type { RoomEvent, StateKey } from '../types.js';
import { stateKeyOf } from '../types.js';
import type { StateResolutionInput } from './resolveSteps.js';

const POWER_LEVELS = stateKeyOf('m.room.power_levels', '');
const CREATE = stateKeyOf('m.room.create', '');

export function resolveStateV1(input: StateResolutionInput): Map<StateKey, string> {
  const { unconflicted, conflicted } = splitV1(input.stateSets);
  const resolved = new Map(unconflicted);
  const conflicts = new Map<StateKey, RoomEvent[]>();
  for (const [key, ids] of conflicted) {
    const events = ids.map((id) => input.getEvent(id)).filter((e): e is RoomEvent => e !== undefined);
    if (events.length === 1) resolved.set(key, events[0].eventId);
    else if (events.length > 1) conflicts.set(key, events);
  }
  if (conflicts.size === 0) return resolved;

  // The unconflicted events of every auth event type the conflicted events need.
  const auth = new Map<StateKey, RoomEvent>();
  for (const events of conflicts.values()) {
    for (const e of events) {
      for (const [type, stateKey] of authEventTypesFor(e.pdu, input.rules)) {
        const key = stateKeyOf(type, stateKey);
        const id = unconflicted.get(key);
        const ev = id === undefined ? undefined : input.getEvent(id);
        if (ev !== undefined && !auth.has(key)) auth.set(key, ev);
      }
    }
  }

  const isAllowed = (event: RoomEvent, against: ReadonlyMap<StateKey, RoomEvent>): boolean => {
    const lookup: StateLookup = (type, stateKey) => against.get(stateKeyOf(type, stateKey))?.pdu;
    const createEventId = against.get(CREATE)?.eventId;
    const verdict = checkEventAuth(event, lookup, input.rules, {
      isSignedBy: input.isSignedBy ?? (() => true), // signatures were checked on receipt
      ...(createEventId !== undefined ? { createEventId } : {}),
    });
    return verdict.allowed;
  };

  const passes: Array<(key: StateKey) => boolean> = [
    (key) => key === POWER_LEVELS,
    (key) => key.startsWith('m.room.join_rules\0'),
    (key) => key.startsWith('m.room.member\0'),
  ];
  const done = new Map<StateKey, RoomEvent>();
  for (const inPass of passes) {
    for (const [key, events] of conflicts) {
      if (inPass(key)) done.set(key, resolveAuthEvents(events, auth, input, isAllowed));
    }
    for (const [key, ev] of done) auth.set(key, ev);
  }
  for (const [key, events] of conflicts) {
    if (!done.has(key)) done.set(key, resolveNormalEvents(events, auth, isAllowed));
  }
  for (const [key, ev] of done) resolved.set(key, ev.eventId);
  return resolved;
}

type IsAllowed = (event: RoomEvent, against: ReadonlyMap<StateKey, RoomEvent>) => boolean;

/** Oldest first (ascending depth, descending sha1); each must be allowed after the one before. */
function resolveAuthEvents(events: RoomEvent[], auth: ReadonlyMap<StateKey, RoomEvent>, input: StateResolutionInput, isAllowed: IsAllowed): RoomEvent {
  const order = newestFirst(events).reverse();
  const keys = new Set(events.flatMap((e) => authEventTypesFor(e.pdu, input.rules).map(([t, k]) => stateKeyOf(t, k))));
  const against = new Map([...auth].filter(([k]) => keys.has(k)));
  let prev = order[0];
  for (const event of order.slice(1)) {
    against.set(stateKeyOf(prev.pdu.type, prev.pdu.state_key ?? ''), prev);
    if (!isAllowed(event, against)) return prev;
    prev = event;
  }
  return prev;
}

/** The newest event (descending depth, ascending sha1) that passes auth, else the oldest. */
function resolveNormalEvents(events: RoomEvent[], auth: ReadonlyMap<StateKey, RoomEvent>, isAllowed: IsAllowed): RoomEvent {
  const order = newestFirst(events);
  return order.find((e) => isAllowed(e, auth)) ?? order[order.length - 1];
}

function newestFirst(events: RoomEvent[]): RoomEvent[] {
  const sha = new Map(events.map((e) => [e.eventId, createHash('sha1').update(e.eventId, 'utf8').digest('hex')]));
  return [...events].sort((a, b) => b.pdu.depth - a.pdu.depth || (sha.get(a.eventId)! < sha.get(b.eventId)! ? -1 : sha.get(a.eventId)! > sha.get(b.eventId)! ? 1 : 0));
}

/** Keys on which the sets that have them agree, and the distinct events of every other key. */
export function splitV1(stateSets: readonly ReadonlyMap<StateKey, string>[]): {
  unconflicted: Map<StateKey, string>;
  conflicted: Map<StateKey, string[]>;
} {
  const values = new Map<StateKey, Set<string>>();
  for (const set of stateSets) {
    for (const [key, id] of set) {
      let ids = values.get(key);
      if (ids === undefined) values.set(key, (ids = new Set()));
      ids.add(id);
    }
  }
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, string[]>();
  for (const [key, ids] of values) {
    if (ids.size === 1) unconflicted.set(key, [...ids][0]);
    else conflicted.set(key, [...ids]);
  }
  return { unconflicted, conflicted };
}
