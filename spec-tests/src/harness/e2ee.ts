// matrix-js-sdk clients with the Rust crypto switched on, for the end-to-end encryption spec
// tests: creation, encrypted rooms, user-interactive auth with a password, and records of
// what the client did (decryption failures, to-device messages it sent).
import { makeClient, sdk, type MatrixClient, type MatrixEvent, type TestClient } from './client.js';
import { describeResponse, enc, expectOk, rawRequest, type HasBaseUrl, type User } from './http.js';
import type { CryptoApi, CryptoCallbacks } from 'matrix-js-sdk/lib/crypto-api/index.js';

/** CryptoEvent, VerificationPhase, VerifierEvent … (loaded after the polyfill, like the SDK). */
export const cryptoApi = await import('matrix-js-sdk/lib/crypto-api/index.js');
export type { CryptoApi, CryptoCallbacks };

/** Generous: the Rust crypto batches its requests and the backup loop sleeps up to 10 s. */
export const E2E_WAIT_MS = 30_000;

export interface DecryptionFailure {
  eventId: string;
  roomId: string;
  /** The SDK's DecryptionFailureCode and message. */
  reason: string;
  at: number;
}

export interface ToDeviceSend {
  eventType: string;
  /** user ID → the device IDs (or "*") the client addressed. */
  recipients: Record<string, string[]>;
  at: number;
}

export interface CryptoTestClient extends TestClient {
  readonly crypto: CryptoApi;
  /**
   * Every time the client failed to decrypt an event, including failures that a later key
   * fixed (the user would have seen "Unable to decrypt" meanwhile).
   */
  readonly decryptionFailures: DecryptionFailure[];
  /** Every PUT /sendToDevice the client made, in order. */
  readonly toDeviceSends: ToDeviceSend[];
  /** Device IDs of `userId` this client's crypto knows (downloading them first if asked). */
  knownDevices(userId: string, download?: boolean): Promise<Set<string>>;
}

const SEND_TO_DEVICE = /^\/_matrix\/client\/(?:v3|r0)\/sendToDevice\/([^/]+)\/[^/?]+/;

/** A client whose Rust crypto (in memory: a new device every time) is initialised but not started. */
export async function makeCryptoClient(server: HasBaseUrl, user: User, opts: { cryptoCallbacks?: CryptoCallbacks } = {}): Promise<CryptoTestClient> {
  const toDeviceSends: ToDeviceSend[] = [];
  const tc = makeClient(server, user, {
    ...(opts.cryptoCallbacks ? { createOpts: { cryptoCallbacks: opts.cryptoCallbacks } } : {}),
    onRequest(method, path, body) {
      const m = method === 'PUT' ? SEND_TO_DEVICE.exec(path) : null;
      if (m === null || typeof body !== 'string') return;
      try {
        const parsed = JSON.parse(body) as { messages?: Record<string, Record<string, unknown>> };
        const recipients: Record<string, string[]> = {};
        for (const [userId, devices] of Object.entries(parsed.messages ?? {})) recipients[userId] = Object.keys(devices);
        toDeviceSends.push({ eventType: decodeURIComponent(m[1] ?? ''), recipients, at: Date.now() });
      } catch {
        // not JSON: not ours to judge here
      }
    },
  });
  await tc.client.initRustCrypto({ useIndexedDB: false });
  const crypto = tc.client.getCrypto();
  if (crypto === undefined) throw new Error(`${user.localpart}: initRustCrypto left no CryptoApi`);

  const decryptionFailures: DecryptionFailure[] = [];
  tc.client.on(sdk.MatrixEventEvent.Decrypted, (ev: MatrixEvent) => {
    if (!ev.isDecryptionFailure()) return;
    decryptionFailures.push({
      eventId: ev.getId() ?? '(no id)',
      roomId: ev.getRoomId() ?? '(no room)',
      reason: `${ev.decryptionFailureReason ?? '?'}: ${String((ev.getContent() as { body?: unknown }).body ?? '')}`,
      at: Date.now(),
    });
  });

  return Object.assign(tc, {
    crypto,
    decryptionFailures,
    toDeviceSends,
    async knownDevices(userId: string, download = false): Promise<Set<string>> {
      const map = await crypto.getUserDeviceInfo([userId], download);
      return new Set(map.get(userId)?.keys() ?? []);
    },
  });
}

/** Creates, starts and awaits PREPARED; stopped (with its crypto) by t.after. */
export async function startedCryptoClient(
  t: { after(fn: () => unknown): void },
  server: HasBaseUrl,
  user: User,
  opts: { initialSyncLimit?: number; cryptoCallbacks?: CryptoCallbacks } = {},
): Promise<CryptoTestClient> {
  const tc = await makeCryptoClient(server, user, opts);
  t.after(() => tc.stop());
  await tc.start(opts);
  return tc;
}

/** Content for client.sendMessage: an m.text message. */
export function textMessage(body: string): { msgtype: typeof sdk.MsgType.Text; body: string } {
  return { msgtype: sdk.MsgType.Text, body };
}

/** The plaintext body of a decrypted m.room.message, else undefined. */
export function decryptedBody(ev: MatrixEvent): string | undefined {
  if (!ev.isEncrypted() || ev.isDecryptionFailure() || ev.getType() !== 'm.room.message') return undefined;
  const body = (ev.getContent() as { body?: unknown }).body;
  return typeof body === 'string' ? body : undefined;
}

/** Waits until `tc` shows `body` decrypted in `roomId`. */
export function waitForDecrypted(tc: TestClient, roomId: string, body: string, timeoutMs = E2E_WAIT_MS): Promise<MatrixEvent> {
  return tc.waitForEvent(roomId, `${tc.user.localpart}/${tc.user.deviceId} to decrypt "${body}"`, (e) => decryptedBody(e) === body, timeoutMs);
}

/**
 * `owner` creates a private room with m.room.encryption, invites the other users, their
 * clients join; returns once every client sees every user joined and the room encrypted.
 * `members` may hold several devices of the same user: the first one joins.
 */
export async function createEncryptedRoom(owner: TestClient, members: TestClient[], timeoutMs = E2E_WAIT_MS): Promise<string> {
  const others = [...new Map(members.filter((m) => m.user.userId !== owner.user.userId).map((m) => [m.user.userId, m])).values()];
  const { room_id: roomId } = await owner.client.createRoom({
    preset: sdk.Preset.PrivateChat,
    invite: others.map((m) => m.user.userId),
    initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
  });
  for (const m of others) {
    await m.waitForRoom(roomId, `${m.user.localpart} to see the invite`, (r) => r.getMyMembership() === 'invite', timeoutMs);
    await m.client.joinRoom(roomId);
  }
  const userIds = [owner.user.userId, ...others.map((m) => m.user.userId)];
  for (const c of [owner, ...members]) {
    await c.waitForRoom(
      roomId,
      `${c.user.localpart}/${c.user.deviceId} to see everyone joined to the encrypted room`,
      (r) => userIds.every((u) => r.getMember(u)?.membership === 'join') && r.currentState.getStateEvents('m.room.encryption', '') !== null,
      timeoutMs,
    );
  }
  return roomId;
}

type AuthDict = Record<string, unknown>;

/**
 * A user-interactive-auth callback as the SDK wants it (e.g. for bootstrapCrossSigning's
 * authUploadDeviceSigningKeys): first without auth; on a 401 challenge, with m.login.password
 * and the challenge's session. `challenges` counts the 401s seen.
 */
export function passwordUia(user: User): {
  callback: <T>(makeRequest: (auth: AuthDict | null) => Promise<T>) => Promise<T>;
  readonly challenges: number;
} {
  let challenges = 0;
  return {
    get challenges() {
      return challenges;
    },
    async callback<T>(makeRequest: (auth: AuthDict | null) => Promise<T>): Promise<T> {
      try {
        return await makeRequest(null);
      } catch (err) {
        const e = err as { httpStatus?: number; data?: { session?: unknown; flows?: unknown } };
        if (e.httpStatus !== 401 || typeof e.data?.session !== 'string') throw err;
        challenges++;
        return makeRequest({
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: user.userId },
          password: user.password,
          session: e.data.session,
        });
      }
    },
  };
}

/** DELETE /devices/{deviceId} as `user` (any of their devices), completing UIA with the password. */
export async function deleteDeviceWithPassword(server: HasBaseUrl, user: User, deviceId: string): Promise<void> {
  const path = `/_matrix/client/v3/devices/${enc(deviceId)}`;
  const first = await rawRequest(server, 'DELETE', path, { token: user.accessToken, body: {} });
  if (first.status !== 401 || typeof first.json?.session !== 'string') {
    throw new Error(`DELETE ${path} without auth: expected a 401 UIA challenge, got ${describeResponse(first)}`);
  }
  const second = await rawRequest(server, 'DELETE', path, {
    token: user.accessToken,
    body: { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: user.userId }, password: user.password, session: first.json.session } },
  });
  expectOk(second, `DELETE ${path} with m.login.password`);
}

/** The device IDs of `userId` in a raw POST /keys/query as `asUser`. */
export async function queriedDeviceIds(server: HasBaseUrl, asUser: User, userId: string): Promise<string[]> {
  const res = await rawRequest(server, 'POST', '/_matrix/client/v3/keys/query', {
    token: asUser.accessToken,
    body: { device_keys: { [userId]: [] } },
  });
  return Object.keys(expectOk(res, `keys/query for ${userId}`).device_keys?.[userId] ?? {});
}

export type { MatrixClient };
