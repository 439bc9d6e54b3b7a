// Unconflicted state map and conflicted state set.
// Spec: rooms/fragments/v2-state-res.md "Unconflicted state map and conflicted state set".
import type { StateKey } from '../types.js';

export interface StateSplit {
  /** Keys present in every state set with the same event. */
  unconflicted: Map<StateKey, string>;
  /** Every event of a key that is missing from some set or differs between sets. */
  conflicted: Set<string>;
}

export function splitStateSets(stateSets: readonly ReadonlyMap<StateKey, string>[]): StateSplit {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Set<string>();
  const keys = new Set<StateKey>();
  for (const set of stateSets) for (const k of set.keys()) keys.add(k);
  for (const key of keys) {
    const first = stateSets[0].get(key);
    if (first !== undefined && stateSets.every((s) => s.get(key) === first)) {
      unconflicted.set(key, first);
      continue;
    }
    for (const s of stateSets) {
      const id = s.get(key);
      if (id !== undefined) conflicted.add(id);
    }
  }
  return { unconflicted, conflicted };
}
