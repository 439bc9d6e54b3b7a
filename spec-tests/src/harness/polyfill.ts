// matrix-js-sdk 43 targets Node 22: the e2ee client module's polyfill adds the one API it needs
// that Node 20 lacks (Promise.withResolvers) before the SDK is ever loaded. Import this module
// first (client.ts does).
import '@parley/e2ee/client/polyfill';
import { unrefSdkTimers } from '@parley/e2ee/client/sdkTimers';

// Timers that matrix-js-sdk arms must not keep the test process alive once the tests are done:
// its per-request abort timers (60 s for the Rust crypto's requests, ~110 s for a long-polling
// /sync) and its 5-minute retry timer per event that failed to decrypt are never cleared. The
// e2ee client module has the fix (e2ee/src/client/sdkTimers.ts): every timer armed straight from
// the SDK's code is unref()'d; during a test the server child processes and the clients' sockets
// keep the process alive anyway.
unrefSdkTimers();

export {};
