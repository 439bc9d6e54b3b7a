// (v2.1) The conflicted state subgraph: every event on an auth_events path from one
// conflicted event to another, endpoints included.
// Spec: rooms/v12.md "State resolution", definition "Conflicted state subgraph".
import { type GetEvent, requireEvent } from './eventGraph.js';
import type { Steps, WorkMeter } from './work.js';

/**
 * An event lies on such a path iff it is reachable from a conflicted event (it is in
 * that event's auth chain) and can itself reach a conflicted event. So: walk down from
 * the conflicted set, then walk back up the reversed edges within that region. Linear.
 */
export function* conflictedSubgraph(conflicted: ReadonlySet<string>, getEvent: GetEvent, meter: WorkMeter): Steps<Set<string>> {
  // Downward: the conflicted events and their auth chains, recording reversed edges.
  const citedBy = new Map<string, string[]>();
  const below = new Set<string>();
  const stack = [...conflicted];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (below.has(id)) continue;
    below.add(id);
    for (const a of requireEvent(getEvent, id).pdu.auth_events) {
      let list = citedBy.get(a);
      if (list === undefined) citedBy.set(a, (list = []));
      list.push(id);
      if (!below.has(a)) stack.push(a);
    }
    if (meter.tick()) yield;
  }
  // Upward from the conflicted events: everything in the region that reaches one.
  const subgraph = new Set<string>();
  const up = [...conflicted];
  while (up.length > 0) {
    const id = up.pop()!;
    if (subgraph.has(id)) continue;
    subgraph.add(id);
    for (const c of citedBy.get(id) ?? []) if (!subgraph.has(c)) up.push(c);
    if (meter.tick()) yield;
  }
  return subgraph;
}
