// Test support (imported by *.test.ts only): the real accounts, rooms, sync and
// E2EE modules on a temp database, served through createApp; and a fake client
// device that holds real ed25519 keys and signs what it uploads.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { encodeBase64 } from '@parley/federation/core/base64';
import type { JsonObjectLike } from '@parley/federation/core/canonicalJson';
import { generateSigningKey, signingKeyFromSeed, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { computeSignature, signJson } from '@parley/federation/signing/signJson';
import type { CrossSigningKey, DeviceKeys, JsonMap } from '@parley/e2ee';
import { toClientEvent } from '../events/clientEvent.js';
import { RoomOutputs } from '../events/outputs.js';
import { createApp } from '../http/app.js';
import { openRooms, type Rooms } from '../rooms/roomsModule.js';
import { Database } from '../storage/db.js';
import { StreamCounter } from '../storage/streamCounter.js';
import { createSyncModule, type SyncModule } from '../sync/syncModule.js';
import { createAccountsModule, type AccountsModule } from '../users/accountsModule.js';
import { noopAccountPorts } from '../users/ports.js';
import { createE2eeModule, type E2eeModule } from './e2eeModule.js';

export const SERVER = 'e2ee.test';
export const C = '/_matrix/client/v3';
export const PASSWORD = 'correct horse';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Res {
  status: number;
  json: Json;
}

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

export async function withE2ee(fn: (k: Kit) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-e2ee-'));
  const db = await Database.open(dir);
  const stream = await StreamCounter.open(db);
  const logger = pino({ level: 'silent' });
  const outputs = new RoomOutputs();
  const rooms = await openRooms({
    db,
    counter: stream,
    outputs,
    serverName: SERVER,
    signingKey: generateSigningKey(),
    profiles: { profile: async () => ({}) },
  });
  const ports = noopAccountPorts();
  const accounts = createAccountsModule(db, { serverName: SERVER, registration: { open: true }, scryptCost: { N: 1024, r: 8, p: 1 } }, ports, logger);
  const sync = createSyncModule({
    db,
    stream,
    reader: rooms.reader,
    outputs,
    visible: (userId, roomId, events) => rooms.visibility.filter(userId, roomId, events),
    format: toClientEvent,
  });
  const e2ee = createE2eeModule({
    db,
    serverName: SERVER,
    stream,
    notifier: sync.notifier,
    rooms: rooms.reader,
    outputs,
    devices: accounts.devices,
    uia: accounts.uia,
  });
  ports.deviceEvents = e2ee.deviceEvents;
  sync.sync.addExtension(e2ee.service.syncExtension);

  const app = createApp({
    routes: [...accounts.routes, ...sync.routes, ...e2ee.routes],
    authenticator: accounts.accounts,
    rateLimiter: undefined,
    logger,
    allowQueryToken: false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call: Kit['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
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
    call,
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
    await new Promise((r) => server.close(r));
    await rooms.drain();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `n` random bytes as unpadded base64 (stands in for a Curve25519 public key). */
export function b64(n: number): string {
  return encodeBase64(randomBytes(n));
}
