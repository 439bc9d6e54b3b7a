// Which state events a /sync room entry carries. Pure.
//
// Spec: client-server-api/_index.md "Syncing": `state` is the state at the START of the
// returned timeline — all of it for an initial sync / full_state / newly joined room,
// otherwise the delta from the `since` position. One refinement (as Synapse does): when
// the timeline filter hid a state change inside the timeline's span, the newer event is
// sent instead, since the client would otherwise never learn of it.
import { splitStateKey, type StateKey } from '@parley/federation/core/types';

export interface StateDeltaInput {
  /** State at the start of the timeline. */
  start: Map<StateKey, string>;
  /** State at the end of the window; only needed when the timeline may hide state events. */
  end?: Map<StateKey, string>;
  /** State the client already has (at `since`); undefined for full state. */
  previous?: Map<StateKey, string>;
  /** IDs of the events in the returned timeline. */
  timelineIds: Set<string>;
}

export function stateDelta(input: StateDeltaInput): Map<StateKey, string> {
  const { start, end, previous, timelineIds } = input;
  const out = new Map<StateKey, string>();
  const keys = end ? new Set([...start.keys(), ...end.keys()]) : start.keys();
  for (const k of keys) {
    const s = start.get(k);
    const e = end?.get(k);
    const id = e !== undefined && e !== s && !timelineIds.has(e) ? e : s;
    if (id === undefined || timelineIds.has(id) || previous?.get(k) === id) continue;
    out.set(k, id);
  }
  return out;
}

/**
 * Lazy-loading members (client-server-api "Lazy-loading room members"): of the member
 * events, keep only those of `wanted` users (timeline senders, the syncing user, heroes).
 * Other state stays. On an incremental sync the delta's member changes are kept too:
 * the spec requires membership changes in a gap regardless of redundancy.
 */
export function lazyLoadMembers(
  state: Map<StateKey, string>,
  opts: { wanted: Set<string>; start: Map<StateKey, string>; timelineIds: Set<string>; incremental: boolean },
): Map<StateKey, string> {
  const out = new Map<StateKey, string>();
  for (const [k, id] of state) {
    const [type, stateKey] = splitStateKey(k);
    if (type !== 'm.room.member' || opts.incremental || opts.wanted.has(stateKey)) out.set(k, id);
  }
  // Members the client may never have been sent (it lazy-loaded before): add them.
  for (const user of opts.wanted) {
    const k = `m.room.member\u0000${user}`;
    const id = opts.start.get(k);
    if (id !== undefined && !opts.timelineIds.has(id) && !out.has(k)) out.set(k, id);
  }
  return out;
}
