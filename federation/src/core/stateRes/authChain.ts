// Auth chains and the auth difference.
// Spec: rooms/fragments/v2-state-res.md "Auth chain", "Auth difference".
import type { StateKey } from '../types.js';
import { type GetEvent, requireEvent } from './eventGraph.js';
import type { Steps, WorkMeter } from './work.js';

/**
 * Union of the auth chains of `startIds`: everything reachable through `auth_events`,
 * excluding the start events unless some other start event reaches them.
 * One walk with one visited set, so shared ancestry is visited once.
 */
export function* authChain(startIds: Iterable<string>, getEvent: GetEvent, meter: WorkMeter): Steps<Set<string>> {
  const chain = new Set<string>();
  const stack: string[] = [];
  for (const id of startIds) stack.push(...requireEvent(getEvent, id).pdu.auth_events);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (chain.has(id)) continue;
    chain.add(id);
    for (const a of requireEvent(getEvent, id).pdu.auth_events) if (!chain.has(a)) stack.push(a);
    if (meter.tick()) yield;
  }
  return chain;
}

/**
 * Events in some but not all of the state sets' full auth chains (∪Cᵢ − ∩Cᵢ).
 * Each Cᵢ also counts the events of Sᵢ itself, as Synapse does: an event held by every
 * state set is then never "different" merely because only some sets' events cite it.
 */
export function* authDifference(
  stateSets: readonly ReadonlyMap<StateKey, string>[],
  getEvent: GetEvent,
  meter: WorkMeter,
): Steps<Set<string>> {
  const seenIn = new Map<string, number>();
  for (const set of stateSets) {
    const chain = yield* authChain(set.values(), getEvent, meter);
    for (const id of set.values()) chain.add(id);
    for (const id of chain) seenIn.set(id, (seenIn.get(id) ?? 0) + 1);
  }
  const diff = new Set<string>();
  for (const [id, n] of seenIn) if (n < stateSets.length) diff.add(id);
  return diff;
}
