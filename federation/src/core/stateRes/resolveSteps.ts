// State resolution v2 / v2.1 as one pausable computation (v1 delegates to resolveV1.ts).
// Spec: rooms/fragments/v2-state-res.md "Algorithm" (rooms 2–11); rooms/v12.md
// "State resolution" (v2.1: conflicted state subgraph, empty start for step 2).
import type { RoomVersionRules } from '../roomVersions.js';
import type { StateKey } from '../types.js';
import { authDifference } from './authChain.js';
import { POWER_LEVELS_KEY } from './authEvents.js';
import { conflictedSubgraph } from './conflictedSubgraph.js';
import type { GetEvent } from './eventGraph.js';
import { type AuthCheckContext, iterativeAuthChecks } from './iterativeAuth.js';
import { mainlineOrder } from './mainline.js';
import { powerEventsWithAncestry } from './powerEvents.js';
import { reverseTopologicalPowerOrder } from './powerOrdering.js';
import { resolveStateV1 } from './resolveV1.js';
import { splitStateSets } from './split.js';
import type { Steps, WorkMeter } from './work.js';

export interface StateResolutionInput {
  /** The states to merge: state key → event ID. */
  stateSets: ReadonlyMap<StateKey, string>[];
  /** Every event of the state sets and their auth chains; a missing one throws MissingEventError. */
  getEvent: GetEvent;
  rules: RoomVersionRules;
  /** Optional: events rejected on receipt, which are not used as auth-event fallbacks. */
  isRejected?: AuthCheckContext['isRejected'];
  /** Optional: signature check for restricted joins (default: trust receipt-time verification). */
  isSignedBy?: AuthCheckContext['isSignedBy'];
}

export function* resolveStateSteps(input: StateResolutionInput, meter: WorkMeter): Steps<Map<StateKey, string>> {
  const { stateSets, getEvent, rules } = input;
  // Room version 1: the original algorithm (cheap: no auth chains are walked).
  if (rules.stateRes === 'v1') return resolveStateV1(input);
  const { unconflicted, conflicted } = splitStateSets(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const full = new Set(conflicted);
  for (const id of yield* authDifference(stateSets, getEvent, meter)) full.add(id);
  if (rules.stateRes === 'v2.1') for (const id of yield* conflictedSubgraph(conflicted, getEvent, meter)) full.add(id);

  // Steps 1–2: power events (and their conflicted ancestry) in power order. v2.1 starts
  // from nothing, so each is judged by its own auth events rather than by unconflicted
  // state that may postdate it (it still wins back its keys in step 5).
  const ctx: AuthCheckContext = { getEvent, rules, isRejected: input.isRejected, isSignedBy: input.isSignedBy };
  const powerSet = yield* powerEventsWithAncestry(full, getEvent, meter);
  const powerOrder = yield* reverseTopologicalPowerOrder(powerSet, getEvent, rules, meter);
  const start = rules.stateRes === 'v2.1' ? new Map<StateKey, string>() : unconflicted;
  const partial = yield* iterativeAuthChecks(start, powerOrder, ctx, meter);

  // Steps 3–4: everything else, by mainline of the power levels resolved so far.
  const rest = [...full].filter((id) => !powerSet.has(id));
  const restOrder = yield* mainlineOrder(rest, partial.get(POWER_LEVELS_KEY), getEvent, meter);
  const resolved = yield* iterativeAuthChecks(partial, restOrder, ctx, meter);

  // Step 5: unconflicted entries always win.
  for (const [key, id] of unconflicted) resolved.set(key, id);
  return resolved;
}
