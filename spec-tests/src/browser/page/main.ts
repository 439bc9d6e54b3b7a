// The page the browser test loads (bundled by ../bundle.ts): Parley's client module
// (e2ee/src/client/cryptoClient.ts) with its crypto store in IndexedDB, driven from the
// test through `window.parley`. Runs in Chromium only: nothing here runs under Node.
import { createCryptoClient } from '@parley/e2ee/client/cryptoClient';
import type { MatrixClient, MatrixEvent } from 'matrix-js-sdk';

export interface PageSession {
  baseUrl: string;
  userId: string;
  deviceId: string;
  accessToken: string;
  /** The store's 32-byte encryption key, as numbers (page.evaluate passes JSON). */
  storageKey: number[];
}

export interface PageApi {
  /** Open the crypto store, start syncing; resolves once the first sync is processed. */
  start(session: PageSession): Promise<{ deviceId: string; ed25519: string; curve25519: string }>;
  join(roomId: string): Promise<void>;
  send(roomId: string, body: string): Promise<string>;
  /** Waits until an event with this plaintext body is in the room, decrypted; returns how it came over the wire. */
  waitForBody(roomId: string, body: string, timeoutMs: number): Promise<{ wireType: string; sender: string }>;
  stop(): Promise<void>;
}

let client: MatrixClient | undefined;

function current(): MatrixClient {
  if (client === undefined) throw new Error('parley page: start() first');
  return client;
}

function bodyOf(ev: MatrixEvent): string | undefined {
  if (ev.getType() !== 'm.room.message' || ev.isDecryptionFailure()) return undefined;
  const body = (ev.getContent() as { body?: unknown }).body;
  return typeof body === 'string' ? body : undefined;
}

const api: PageApi = {
  async start(s) {
    const c = await createCryptoClient({
      baseUrl: s.baseUrl,
      userId: s.userId,
      deviceId: s.deviceId,
      accessToken: s.accessToken,
      storage: { kind: 'indexeddb', databasePrefix: `parley-${s.userId}`, storageKey: new Uint8Array(s.storageKey) },
    });
    client = c;
    const prepared = new Promise<void>((resolve, reject) => {
      const onSync = (state: string): void => {
        if (state === 'PREPARED' || state === 'SYNCING') {
          c.removeListener('sync' as never, onSync as never);
          resolve();
        } else if (state === 'ERROR') reject(new Error('first sync failed'));
      };
      c.on('sync' as never, onSync as never);
    });
    await c.startClient({ initialSyncLimit: 20 });
    await prepared;
    const keys = await c.getCrypto()!.getOwnDeviceKeys();
    return { deviceId: c.getDeviceId() ?? '', ed25519: keys.ed25519, curve25519: keys.curve25519 };
  },

  async join(roomId) {
    await current().joinRoom(roomId);
  },

  async send(roomId, body) {
    const res = await current().sendEvent(roomId, 'm.room.message' as never, { msgtype: 'm.text', body } as never);
    return res.event_id;
  },

  async waitForBody(roomId, body, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = current().getRoom(roomId)?.getLiveTimeline().getEvents() ?? [];
      const ev = events.find((e) => bodyOf(e) === body);
      if (ev) return { wireType: ev.getWireType(), sender: ev.getSender() ?? '' };
      if (Date.now() > deadline) {
        const seen = events.map((e) => `${e.getWireType()}${e.isDecryptionFailure() ? ' (undecryptable)' : ''}`);
        throw new Error(`"${body}" did not arrive decrypted within ${timeoutMs} ms; the room shows: ${seen.join(', ') || 'nothing'}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  },

  async stop() {
    // Also stops and frees the Rust crypto.
    client?.stopClient();
    client = undefined;
  },
};

(globalThis as unknown as { parley: PageApi }).parley = api;
