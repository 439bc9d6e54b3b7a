// matrix-js-sdk 43 targets Node 22. The only Node 22 API it needs at runtime
// that Node 20 lacks is Promise.withResolvers, so provide it before the SDK
// is ever loaded. Import this module first (client.ts does).

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

// Timers that matrix-js-sdk arms must not keep the test process alive once the tests are done.
// Two that did, with every client stopped: timeoutSignal() (lib/http-api/utils.js, its ponyfill
// for AbortSignal.timeout) arms setTimeout(() => controller.abort(), ms) for every request — 60 s
// for the Rust crypto's key requests, 110 s for a long-polling /sync — and never clears it; and
// RustCrypto.onLiveEventFromSync arms a 5-minute timer for every live event that fails to
// decrypt, cleared only if it decrypts later. A test process lingered ~110 s (and up to 5 min
// after an expected "unable to decrypt") after its last test. So every timer whose setTimeout/
// setInterval call comes straight from the SDK's (or its crypto's) code is unref()'d, as
// AbortSignal.timeout()'s own timer is: it still fires whenever the process is alive for another
// reason — during a test the server child processes and the clients' sockets keep it alive.
const SDK_CODE = /[\\/]node_modules[\\/](?:matrix-js-sdk|@matrix-org[\\/]matrix-sdk-crypto-wasm)[\\/]/;

/** Whether the function that called `wrapper` lives in the SDK's files. */
function calledFromSdk(wrapper: (...a: never[]) => unknown): boolean {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  Error.captureStackTrace(holder, wrapper);
  Error.stackTraceLimit = limit;
  return SDK_CODE.test(holder.stack ?? '');
}

function unrefSdkTimers<F extends (...a: never[]) => unknown>(real: F): F {
  const wrapper = function (this: unknown, ...args: unknown[]): unknown {
    const timer = (real as unknown as (...a: unknown[]) => unknown).apply(this, args);
    if (calledFromSdk(wrapper)) (timer as { unref?: () => void }).unref?.();
    return timer;
  };
  // Keep util.promisify.custom, name and the rest that Node hangs on the real function.
  for (const [key, desc] of Object.entries(Object.getOwnPropertyDescriptors(real))) {
    if (key !== 'prototype') Object.defineProperty(wrapper, key, desc);
  }
  for (const sym of Object.getOwnPropertySymbols(real)) {
    Object.defineProperty(wrapper, sym, Object.getOwnPropertyDescriptor(real, sym) as PropertyDescriptor);
  }
  Object.defineProperty(wrapper, 'parleyUnrefsSdkTimers', { value: true });
  return wrapper as unknown as F;
}

if (!(globalThis.setTimeout as { parleyUnrefsSdkTimers?: boolean }).parleyUnrefsSdkTimers) {
  globalThis.setTimeout = unrefSdkTimers(globalThis.setTimeout);
  globalThis.setInterval = unrefSdkTimers(globalThis.setInterval);
}

export {};
