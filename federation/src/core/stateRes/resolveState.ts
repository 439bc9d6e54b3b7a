// Drivers for state resolution: all at once, or in slices that let other work run.
import type { StateKey } from '../types.js';
import { resolveStateSteps, type StateResolutionInput } from './resolveSteps.js';
import { NEVER_YIELD, runToEnd, workMeter } from './work.js';

export type { StateResolutionInput } from './resolveSteps.js';
export { MissingEventError } from './eventGraph.js';

/** Resolve synchronously. */
export function resolveState(input: StateResolutionInput): Map<StateKey, string> {
  return runToEnd(resolveStateSteps(input, NEVER_YIELD));
}

/** Units of work (events visited, sorted or checked) between pauses. */
export const DEFAULT_YIELD_EVERY = 1000;

/** Resolve, returning to the event loop every `yieldEvery` units of work. Same answer as resolveState. */
export async function resolveStateYielding(
  input: StateResolutionInput,
  yieldEvery = DEFAULT_YIELD_EVERY,
): Promise<Map<StateKey, string>> {
  const steps = resolveStateSteps(input, workMeter(yieldEvery));
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resume) => setImmediate(resume));
  }
}
