// Test support (imported by *.test.ts only): the real accounts, rooms, sync and
// E2EE modules on a temp database, served through createApp; and a fake client
// device that holds real ed25519 keys and signs what it uploads.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { encodeBase64 } from '@parley/federation/core/base64';
import type { JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { generateSigningKey, signingKeyFromSeed, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { computeSignature, signJson } from '@parley/federation/signing/signJson';
import { E2eeError, type CrossSigningKey, type DeviceKeys, type JsonMap, type OutgoingToDevicePort } from '@parley/e2ee';
import type { Rooms } from '../rooms/roomsModule.js';
import type { Database } from '../storage/db.js';
import type { StreamCounter } from '../storage/streamCounter.js';
import type { SyncModule } from '../sync/syncModule.js';
import { serveTestApp, type Res } from '../testing/http.js';
import { openTestRoomsModule, openTestSync } from '../testing/rooms.js';
import { openTestStorage } from '../testing/storage.js';
import { createAccountsModule, type AccountsModule } from '../users/accountsModule.js';
import { noopAccountPorts } from '../users/ports.js';
import { createE2eeModule, type E2eeModule } from './e2eeModule.js';

export const SERVER = 'e2ee.test';
export const C = '/_matrix/client/v3';
export const PASSWORD = 'correct horse';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export type { Res };

/** A logged-in device that signs its keys like a real client would. */
export class FakeDevice {
  readonly key: SigningKey;
  private otkCounter = 0;

  constructor(
    readonly userId: string,
    readonly deviceId: string,
    readonly token: string,
  ) {
    this.key = signingKeyFromSeed(`ed25519:${deviceId}`, randomBytes(32));
  }

  get requester() {
    return { userId: this.userId, deviceId: this.deviceId, isAdmin: false };
  }

  deviceKeys(extra: JsonMap = {}): DeviceKeys {
    const unsigned = {
      user_id: this.userId,
      device_id: this.deviceId,
      algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
      keys: { [`curve25519:${this.deviceId}`]: b64(32), [`ed25519:${this.deviceId}`]: this.key.publicKeyBase64 },
      ...extra,
    };
    return this.sign(unsigned) as DeviceKeys;
  }

  /** `n` signed_curve25519 one-time keys, by `<algorithm>:<key ID>`. */
  oneTimeKeys(n: number): Record<string, JsonMap> {
    const out: Record<string, JsonMap> = {};
    for (let i = 0; i < n; i++) out[`signed_curve25519:AAAA${++this.otkCounter}`] = this.sign({ key: b64(32) });
    return out;
  }

  fallbackKey(id = 'FB1'): Record<string, JsonMap> {
    return { [`signed_curve25519:${id}`]: this.sign({ key: b64(32), fallback: true }) };
  }

  sign<T extends JsonMap>(obj: T): T {
    return signJson(obj as JsonObjectLike, this.userId, this.key) as unknown as T;
  }
}

/** A cross-signing key pair; its key ID is `ed25519:<public key>`. */
export class FakeCrossSigningKey {
  readonly key = generateSigningKey();
  get publicKey(): string {
    return this.key.publicKeyBase64;
  }
  get keyId(): string {
    return `ed25519:${this.publicKey}`;
  }

  /** The public key object for `usage`, signed by `signer` when given. */
  object(userId: string, usage: string, signer?: FakeCrossSigningKey): CrossSigningKey {
    const obj: CrossSigningKey = { user_id: userId, usage: [usage], keys: { [this.keyId]: this.publicKey } };
    return signer ? signer.signAs(userId, obj) : obj;
  }

  /** `obj` with this key's signature added under `userId`. */
  signAs<T extends JsonMap>(userId: string, obj: T): T {
    const sig = computeSignature(obj as JsonObjectLike, this.key);
    const sigs = (obj.signatures ?? {}) as Record<string, Record<string, string>>;
    return { ...obj, signatures: { ...sigs, [userId]: { ...(sigs[userId] ?? {}), [this.keyId]: sig } } };
  }
}

export interface Kit {
  db: Database;
  stream: StreamCounter;
  rooms: Rooms;
  accounts: AccountsModule;
  sync: SyncModule;
  e2ee: E2eeModule;
  /** Register a user (password PASSWORD) logged in on `deviceId`. */
  register(localpart: string, deviceId?: string): Promise<FakeDevice>;
  /** Log an existing user in on another device. */
  login(userId: string, deviceId: string): Promise<FakeDevice>;
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<Res>;
  /** A room created by `owner` and joined by the others. */
  sharedRoom(owner: FakeDevice, ...others: FakeDevice[]): Promise<string>;
}

export async function withE2ee(fn: (k: Kit) => Promise<void>, opts: { outgoingToDevice?: OutgoingToDevicePort } = {}): Promise<void> {
  const storage = await openTestStorage({ prefix: 'parley-e2ee-' });
  const { db, stream, outputs } = storage;
  const logger = pino({ level: 'silent' });
  const rooms = await openTestRoomsModule(storage, { serverName: SERVER });
  const ports = noopAccountPorts();
  const accounts = createAccountsModule(db, { serverName: SERVER, registration: { open: true }, scryptCost: { N: 1024, r: 8, p: 1 } }, ports, logger);
  const sync = openTestSync(storage, rooms);
  const e2ee = createE2eeModule({
    db,
    serverName: SERVER,
    stream,
    notifier: sync.notifier,
    rooms: rooms.reader,
    outputs,
    devices: accounts.devices,
    uia: accounts.uia,
    ...(opts.outgoingToDevice ? { outgoingToDevice: opts.outgoingToDevice } : {}),
  });
  ports.deviceEvents = e2ee.deviceEvents;
  sync.sync.addExtension(e2ee.service.syncExtension);

  const http = await serveTestApp([...accounts.routes, ...sync.routes, ...e2ee.routes], accounts.accounts, { logger });
  const kit: Kit = {
    db,
    stream,
    rooms,
    accounts,
    sync,
    e2ee,
    async register(localpart, deviceId = `${localpart.toUpperCase()}DEV`) {
      const r = await accounts.accounts.register({ localpart, password: PASSWORD, login: { deviceId } });
      return new FakeDevice(r.userId, r.deviceId!, r.accessToken!);
    },
    async login(userId, deviceId) {
      const s = await accounts.accounts.newSession(userId, { deviceId });
      return new FakeDevice(userId, s.deviceId, s.accessToken);
    },
    call: http.call,
    async sharedRoom(owner, ...others) {
      const { room_id } = await rooms.creator.createRoom(owner.requester, { preset: 'public_chat' });
      for (const o of others) await rooms.membership.join(o.userId, room_id);
      return room_id;
    },
  };
  try {
    await fn(kit);
  } finally {
    sync.close();
    await http.close();
    await rooms.drain();
    await storage.close();
  }
}

/** Assert that `p` rejects with an E2eeError of this errcode and status. */
export async function rejectsWith(p: Promise<unknown>, errcode: string, status: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof E2eeError, `expected an E2eeError, got ${String(e)}`);
    assert.equal(e.errcode, errcode, e.message);
    assert.equal(e.status, status);
    return true;
  });
}

/** `n` random bytes as unpadded base64 (stands in for a Curve25519 public key). */
export function b64(n: number): string {
  return encodeBase64(randomBytes(n));
}
