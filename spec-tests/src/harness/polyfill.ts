// matrix-js-sdk 43 targets Node 22. The only Node 22 API it needs at runtime
// that Node 20 lacks is Promise.withResolvers, so provide it before the SDK
// is ever loaded. Import this module first (client.ts does).
import { unrefSdkTimers } from '@parley/e2ee/client/sdkTimers';

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

// Timers that matrix-js-sdk arms must not keep the test process alive once the tests are done:
// its per-request abort timers (60 s for the Rust crypto's requests, ~110 s for a long-polling
// /sync) and its 5-minute retry timer per event that failed to decrypt are never cleared. The
// e2ee client module has the fix (e2ee/src/client/sdkTimers.ts): every timer armed straight from
// the SDK's code is unref()'d; during a test the server child processes and the clients' sockets
// keep the process alive anyway.
unrefSdkTimers();

export {};
