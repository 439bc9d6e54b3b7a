// The ceiling for state-res: the part of state resolution v2 that no resolver can skip,
// written plainly and without Parley's code. It finds the state keys the sets disagree on,
// walks every state set's full auth chain (the auth difference needs them all) and sorts
// the full conflicted set by (origin_server_ts, event ID). It checks no authorisation and
// builds no power-level mainline: whatever Parley's resolver costs above this is the
// authorisation and ordering work of the algorithm, and its own overhead.
// Spec: server-server-api.md / rooms v2 "State resolution" (auth difference, full conflicted set).
import type { RoomEvent, StateKey } from '@parley/federation/core/types';

export function stateResFloor(stateSets: readonly ReadonlyMap<StateKey, string>[], getEvent: (id: string) => RoomEvent | undefined): string[] {
  const keys = new Set<StateKey>();
  for (const s of stateSets) for (const k of s.keys()) keys.add(k);
  const conflicted = new Set<string>();
  for (const k of keys) {
    const ids = new Set(stateSets.map((s) => s.get(k)));
    if (ids.size > 1) for (const id of ids) if (id !== undefined) conflicted.add(id);
  }
  const chains = stateSets.map((s) => {
    const seen = new Set<string>();
    const todo = [...s.values()];
    while (todo.length > 0) {
      const ev = getEvent(todo.pop()!);
      if (!ev) continue;
      for (const a of ev.pdu.auth_events) {
        if (!seen.has(a)) {
          seen.add(a);
          todo.push(a);
        }
      }
    }
    return seen;
  });
  const full = new Set(conflicted);
  for (const chain of chains) for (const id of chain) if (!chains.every((c) => c.has(id))) full.add(id);
  const ts = (id: string) => getEvent(id)?.pdu.origin_server_ts ?? 0;
  return [...full].sort((a, b) => ts(a) - ts(b) || (a < b ? -1 : a > b ? 1 : 0));
}
