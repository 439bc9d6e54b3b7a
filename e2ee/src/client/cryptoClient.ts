// A matrix-js-sdk client with its Rust crypto (matrix-sdk-crypto-wasm) switched on:
// the client-side half of end-to-end encryption, for tests, tools and bots in Node,
// and in the browser (spec-tests/src/browser proves it in Chromium).
//
// Storage is the seam between the two: in Node the crypto store lives in memory
// (there is no IndexedDB), so a process restart means a new device; in a browser
// the same call keeps it in IndexedDB under `databasePrefix`, so a reloaded page is
// the same device with the same keys and sessions.
import './polyfill.js';
import type { ICreateClientOpts, MatrixClient } from 'matrix-js-sdk';
import { unrefSdkTimers } from './sdkTimers.js';

// The SDK's request-timeout and decryption-retry timers must not keep a Node process alive
// for minutes after the client is stopped (see sdkTimers.ts).
unrefSdkTimers();

export type CryptoStorage =
  /** Keys in memory only: a new device per process (Node, tests). */
  | { kind: 'memory' }
  /**
   * Keys in IndexedDB (browsers); `databasePrefix` separates accounts sharing an origin.
   * The store is encrypted at rest with `storageKey` (32 bytes) or a key derived from
   * `storagePassword`; the same one must be given every time the store is opened.
   */
  | { kind: 'indexeddb'; databasePrefix: string; storageKey?: Uint8Array; storagePassword?: string };

export interface CryptoClientOptions {
  baseUrl: string;
  userId: string;
  deviceId: string;
  accessToken: string;
  storage?: CryptoStorage;
  /** Anything else for createClient (fetchFn, logger, timelineSupport …). */
  extra?: Partial<ICreateClientOpts>;
}

/** Create the client and initialise its Rust crypto; call startClient() on it afterwards. */
export async function createCryptoClient(opts: CryptoClientOptions): Promise<MatrixClient> {
  // Loaded only after the polyfill above has run.
  const sdk = await import('matrix-js-sdk');
  const client = sdk.createClient({
    ...opts.extra,
    baseUrl: opts.baseUrl,
    userId: opts.userId,
    deviceId: opts.deviceId,
    accessToken: opts.accessToken,
  });
  const storage = opts.storage ?? { kind: 'memory' };
  if (storage.kind === 'memory') {
    await client.initRustCrypto({ useIndexedDB: false });
  } else {
    await client.initRustCrypto({
      useIndexedDB: true,
      cryptoDatabasePrefix: storage.databasePrefix,
      ...(storage.storageKey ? { storageKey: storage.storageKey } : {}),
      ...(storage.storagePassword !== undefined ? { storagePassword: storage.storagePassword } : {}),
    });
  }
  return client;
}
