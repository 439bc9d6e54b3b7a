// matrix-js-sdk arms timers that it never clears, and in Node each one keeps the process alive:
// - timeoutSignal() (lib/http-api/utils.js, its ponyfill for AbortSignal.timeout) arms
//   setTimeout(() => controller.abort(), ms) for every request with a local timeout — 60 s for
//   each of the Rust crypto's outgoing requests (/keys/upload, /keys/query, /sendToDevice …),
//   ~110 s for a long-polling /sync — and leaves it armed when the request finishes;
// - RustCrypto.onLiveEventFromSync arms a 5-minute timer for every live event that fails to
//   decrypt, cleared only if the event decrypts later.
// So a Node process that has stopped its client (a bot, a tool, a test) lingers for up to
// minutes. unrefSdkTimers() wraps the global setTimeout/setInterval so that every timer whose
// call comes straight from the SDK's (or its crypto's) own files is unref()'d, as
// AbortSignal.timeout()'s own timer is: it still fires whenever the process is alive for another
// reason (a running client's sockets keep it alive), it just no longer holds the process open.
// Timers armed by any other code are left as they are.
//
// Browsers have no unref and no process to keep alive: there it does nothing.

const SDK_CODE = /[\\/]node_modules[\\/](?:matrix-js-sdk|@matrix-org[\\/]matrix-sdk-crypto-wasm)[\\/]/;
const MARK = 'parleyUnrefsSdkTimers';

type TimerFn = (...args: never[]) => unknown;

/** Whether the function that called `wrapper` lives in the SDK's files (V8 stack traces). */
function calledFromSdk(wrapper: TimerFn): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  try {
    Error.captureStackTrace(holder, wrapper);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return SDK_CODE.test(holder.stack ?? '');
}

function unrefWhenFromSdk<F extends TimerFn>(real: F): F {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const timer = (real as unknown as (...a: unknown[]) => unknown).apply(this, args);
    if (calledFromSdk(wrapper)) (timer as { unref?: () => void } | undefined)?.unref?.();
    return timer;
  };
  // Keep util.promisify.custom, name, length and whatever else Node hangs on the real function.
  for (const [key, desc] of Object.entries(Object.getOwnPropertyDescriptors(real))) {
    if (key !== 'prototype') Object.defineProperty(wrapper, key, desc);
  }
  for (const sym of Object.getOwnPropertySymbols(real)) {
    Object.defineProperty(wrapper, sym, Object.getOwnPropertyDescriptor(real, sym) as PropertyDescriptor);
  }
  Object.defineProperty(wrapper, MARK, { value: true });
  return wrapper as unknown as F;
}

/**
 * Make the timers matrix-js-sdk arms stop holding a Node process open. Idempotent; call it
 * before the SDK runs (it looks up setTimeout on globalThis at each call, so before its first
 * request is enough). Returns whether the wrappers are in place.
 */
export function unrefSdkTimers(): boolean {
  const g = globalThis as unknown as { setTimeout: TimerFn & { [MARK]?: boolean }; setInterval: TimerFn };
  if (g.setTimeout[MARK]) return true;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode || typeof Error.captureStackTrace !== 'function') return false;
  g.setTimeout = unrefWhenFromSdk(g.setTimeout);
  g.setInterval = unrefWhenFromSdk(g.setInterval);
  return true;
}
