// Open-loop load: request i is due at t0 + i/rate whatever happened to earlier ones, and
// its latency counts from when it was due (not when it was sent), so a slow server cannot
// hide its queueing by slowing the generator down (no coordinated omission).
import { nowMs } from './stats.js';

export interface OpenLoopResult {
  offered: number;
  completed: number;
  errors: number;
  lastError?: string;
  /** Latency from due time to answer, ms, of each completed request. */
  latencies: number[];
  /** Completed per second over the span from the first due time to the last answer. */
  achievedPerSecond: number;
  /** True when the in-flight cap was hit and requests were dropped. */
  overloaded: boolean;
}

export interface OpenLoopOptions {
  rate: number;
  durationMs: number;
  /** Requests in flight beyond which the step is abandoned as overloaded. */
  maxInflight?: number;
  /** Per-request deadline after the last due time. */
  drainMs?: number;
  /** Sends request `i` (due at `dueAt`); resolves when answered (rejects on failure). */
  fire(i: number, dueAt: number): Promise<void>;
}

export function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round((o.rate * o.durationMs) / 1000));
  const interval = 1000 / o.rate;
  const maxInflight = o.maxInflight ?? 5000;
  const latencies: number[] = [];
  let errors = 0;
  let lastError: string | undefined;
  let inflight = 0;
  let issued = 0;
  let settled = 0;
  let overloaded = false;
  let lastAnswer = 0;
  const t0 = nowMs() + 20;
  return new Promise<OpenLoopResult>((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(drainTimer);
      const span = Math.max(1, (lastAnswer || nowMs()) - t0);
      resolve({ offered: total, completed: latencies.length, errors, lastError, latencies, achievedPerSecond: (latencies.length * 1000) / span, overloaded });
    };
    let drainTimer: NodeJS.Timeout | undefined;
    const tick = () => {
      const now = nowMs();
      while (issued < total && t0 + issued * interval <= now) {
        const i = issued++;
        const dueAt = t0 + i * interval;
        if (inflight >= maxInflight) {
          overloaded = true;
          errors++;
          lastError = `more than ${maxInflight} requests in flight`;
          settled++;
          continue;
        }
        inflight++;
        o.fire(i, dueAt).then(
          () => {
            lastAnswer = nowMs();
            latencies.push(lastAnswer - dueAt);
          },
          (err: unknown) => {
            errors++;
            lastError = err instanceof Error ? err.message : String(err);
          },
        ).finally(() => {
          inflight--;
          settled++;
          if (settled === total) finish();
        });
      }
      if (issued < total) setTimeout(tick, Math.max(0, Math.min(5, t0 + issued * interval - nowMs())));
      else drainTimer = setTimeout(finish, o.drainMs ?? 30_000);
    };
    setTimeout(tick, 20);
  });
}
