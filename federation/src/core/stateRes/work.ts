// Cooperative slicing. Every stage of state resolution is a generator that yields
// after a budget of work, so a driver can give the event loop back between slices
// while the algorithm itself stays pure and synchronous.

/** A computation that may pause (yield) before returning T. */
export type Steps<T> = Generator<void, T, void>;

/** Counts units of work (one per event visited, sorted or checked). */
export interface WorkMeter {
  /** Record `units` of work; true when the budget is spent and the caller should yield. */
  tick(units?: number): boolean;
}

export function workMeter(every: number): WorkMeter {
  if (!(every > 0)) throw new RangeError(`yield interval must be positive, got ${every}`);
  let left = every;
  return {
    tick(units = 1) {
      left -= units;
      if (left > 0) return false;
      left = every;
      return true;
    },
  };
}

/** A meter for callers that never want to pause. */
export const NEVER_YIELD: WorkMeter = { tick: () => false };

/** Drive `steps` to completion synchronously. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
