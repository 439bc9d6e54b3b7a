// Test support (imported by *.test.ts only): the real room service and the push module
// on a temp database, served through createApp, with a token → user map standing in for
// the accounts service, and the sync module's account data service for `m.push_rules`.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import type { JsonObject } from '@parley/federation/core/types';
import { pino } from 'pino';
import { toClientEvent } from '../events/clientEvent.js';
import { RoomOutputs } from '../events/outputs.js';
import { createApp } from '../http/app.js';
import type { Requester } from '../http/route.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import { openRooms, type Rooms } from '../rooms/roomsModule.js';
import { Database } from '../storage/db.js';
import { StreamCounter } from '../storage/streamCounter.js';
import { createSyncModule, type SyncModule } from '../sync/syncModule.js';
import { createPushModule, type PushModule, type PushModuleDeps } from './pushModule.js';

export const SERVER = 'example.test';
export const C = '/_matrix/client/v3';

export interface TestUser extends Requester {
  token: string;
}

export interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface PushHarness {
  db: Database;
  rooms: Rooms;
  push: PushModule;
  sync: SyncModule;
  stream: StreamCounter;
  errors: Array<{ err: unknown; what: string }>;
  user(localpart: string, deviceId?: string): TestUser;
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<Res>;
  createRoom(u: TestUser, req?: CreateRoomRequest): Promise<string>;
  join(u: TestUser, roomId: string): Promise<void>;
  send(u: TestUser, roomId: string, content: JsonObject, type?: string): Promise<string>;
  /** Wait until the worker has evaluated everything written so far. */
  settle(): Promise<void>;
}

let txn = 0;

export type HarnessOptions = Partial<Pick<PushModuleDeps, 'fetch' | 'backoff' | 'legacyMentionRules' | 'now'>>;

export async function withPushServer(opts: HarnessOptions, fn: (h: PushHarness) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-push-'));
  const db = await Database.open(dir);
  const stream = await StreamCounter.open(db);
  const outputs = new RoomOutputs();
  const errors: PushHarness['errors'] = [];
  const onError = (err: unknown, what: string) => errors.push({ err, what });
  const rooms = await openRooms({
    db,
    counter: stream,
    outputs,
    serverName: SERVER,
    signingKey: generateSigningKey(),
    profiles: { profile: async () => ({}) },
    onError,
  });
  const sync = createSyncModule({
    db,
    stream,
    reader: rooms.reader,
    outputs,
    visible: (userId, roomId, events) => rooms.visibility.filter(userId, roomId, events),
    format: toClientEvent,
  });
  const push = createPushModule({
    db,
    reader: rooms.reader,
    outputs,
    stream,
    serverName: SERVER,
    format: toClientEvent,
    accountData: sync.accountData,
    onError,
    ...opts,
  });
  await push.start();
  const users = new Map<string, TestUser>();
  const logger = pino({ level: 'silent' });
  const app = createApp({
    routes: push.routes,
    authenticator: { authenticate: async (token) => users.get(token) },
    rateLimiter: undefined,
    logger,
    allowQueryToken: false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call: PushHarness['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const h: PushHarness = {
    db,
    rooms,
    push,
    sync,
    stream,
    errors,
    user(localpart, deviceId = 'DEV') {
      const u: TestUser = { userId: `@${localpart}:${SERVER}`, deviceId, isAdmin: false, token: `tok-${localpart}-${deviceId}` };
      users.set(u.token, u);
      return u;
    },
    call,
    async createRoom(u, req = {}) {
      return (await rooms.creator.createRoom(u, req)).room_id;
    },
    async join(u, roomId) {
      await rooms.membership.join(u.userId, roomId);
    },
    send(u, roomId, content, type = 'm.room.message') {
      return rooms.events.send(u, roomId, type, `t${txn++}`, content);
    },
    settle: () => push.worker.caughtUp(stream.persisted, 10_000),
  };
  try {
    await fn(h);
  } finally {
    await push.close();
    sync.close();
    await new Promise((r) => server.close(r));
    await rooms.drain();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
