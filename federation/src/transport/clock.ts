// Time as the transport layer sees it; tests substitute a fake to drive backoff and expiry.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Run `fn` after `ms`; the timer must not keep the process alive. */
  schedule(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
