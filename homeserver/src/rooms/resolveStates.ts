// State resolution over stored events: merge several states of one room (the states
// after an event's prev_events, or after the room's forward extremities). The pure
// algorithm (federation core) needs every event of the state sets and their auth
// chains in memory; they are loaded here, and only when the states really conflict.
// Spec: server-server-api.md "Room State Resolution"; rooms/fragments/v2-state-res.md; rooms/v12.md.
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import { resolveStateYielding } from '@parley/federation/core/stateRes/index';
import type { RoomEvent, StateKey } from '@parley/federation/core/types';
import type { EventRecord } from '../storage/eventsRepo.js';

export interface EventLoader {
  byIds(eventIds: string[]): Promise<Array<EventRecord | undefined>>;
}

/** The resolved state of `stateSets` (state key → event ID). */
export async function resolveStateSets(
  events: EventLoader,
  roomId: string,
  rules: RoomVersionRules,
  stateSets: ReadonlyArray<ReadonlyMap<StateKey, string>>,
  /** Events not stored yet (the one being written). */
  pending: readonly EventRecord[] = [],
): Promise<Map<StateKey, string>> {
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1 || stateSets.every((s) => sameState(s, stateSets[0]))) return new Map(stateSets[0]);

  const withPending: EventLoader = {
    async byIds(ids) {
      const found = await events.byIds(ids);
      return found.map((r, i) => r ?? pending.find((p) => p.eventId === ids[i]));
    },
  };
  const loaded = await loadAuthClosure(withPending, roomId, rules, stateSets.flatMap((s) => [...s.values()]));
  return resolveStateYielding({
    stateSets: stateSets as ReadonlyMap<StateKey, string>[],
    getEvent: (id) => loaded.get(id),
    rules,
    isRejected: (id) => loaded.get(id)?.rejected !== undefined,
  });
}

/** The given events and their auth chains (as far as this server has them). */
export async function loadAuthClosure(
  events: EventLoader,
  roomId: string,
  rules: RoomVersionRules,
  start: string[],
): Promise<Map<string, RoomEvent & { rejected?: string }>> {
  const loaded = new Map<string, RoomEvent & { rejected?: string }>();
  // v12: the create event is implied by the room ID rather than cited.
  let frontier = [...new Set(rules.roomIdIsCreateEventHash ? [...start, '$' + roomId.slice(1)] : start)];
  while (frontier.length > 0) {
    const records = await events.byIds(frontier);
    const next = new Set<string>();
    for (const r of records) {
      if (!r || loaded.has(r.eventId)) continue;
      loaded.set(r.eventId, { eventId: r.eventId, roomId: r.roomId, pdu: r.pdu, ...(r.rejected ? { rejected: r.rejected } : {}) });
      for (const a of r.pdu.auth_events) if (!loaded.has(a)) next.add(a);
    }
    frontier = [...next];
  }
  return loaded;
}

export function sameState(a: ReadonlyMap<StateKey, string>, b: ReadonlyMap<StateKey, string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
