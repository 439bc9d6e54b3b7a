// Test support (imported by *.test.ts only): the real room service, sync module and
// messaging module on a temp database, served through createApp, with a token → user
// map standing in for the accounts service.
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
import { roomRoutes } from '../api/client/rooms.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import { openRooms, type Rooms } from '../rooms/roomsModule.js';
import { Database } from '../storage/db.js';
import { StreamCounter } from '../storage/streamCounter.js';
import { createSyncModule, type SyncModule } from '../sync/syncModule.js';
import { createMessagingModule, type MessagingModule } from './messagingModule.js';

export const SERVER = 'example.test';
export const C3 = '/_matrix/client/v3';
export const C1 = '/_matrix/client/v1';

export interface TestUser extends Requester {
  token: string;
}

export interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface Harness {
  db: Database;
  rooms: Rooms;
  sync: SyncModule;
  messaging: MessagingModule;
  user(localpart: string): TestUser;
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<Res>;
  createRoom(u: TestUser, req?: CreateRoomRequest): Promise<string>;
  /** PUT /send through HTTP; returns the event ID (asserts nothing). */
  send(u: TestUser, roomId: string, content: JsonObject, type?: string): Promise<Res>;
  message(u: TestUser, roomId: string, body: string, extra?: JsonObject): Promise<string>;
}

let txn = 0;

export async function withMessagingServer(fn: (h: Harness) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-messaging-'));
  const db = await Database.open(dir);
  const stream = await StreamCounter.open(db);
  const outputs = new RoomOutputs();
  const rooms = await openRooms({
    db,
    counter: stream,
    outputs,
    serverName: SERVER,
    signingKey: generateSigningKey(),
    profiles: { profile: async () => ({}) },
  });
  const messaging = createMessagingModule({ db, rooms, serverName: SERVER });
  const sync = createSyncModule({
    db,
    stream,
    reader: rooms.reader,
    outputs,
    visible: messaging.visible,
    format: toClientEvent,
    bundle: messaging.bundle,
    ignored: messaging.ignored,
  });
  const users = new Map<string, TestUser>();
  const app = createApp({
    routes: [...roomRoutes(rooms), ...sync.routes, ...messaging.routes, ...messaging.tagRoutes(sync.accountData)],
    authenticator: { authenticate: async (token) => users.get(token) },
    rateLimiter: undefined,
    logger: pino({ level: 'silent' }),
    allowQueryToken: false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const call: Harness['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  const h: Harness = {
    db,
    rooms,
    sync,
    messaging,
    user(localpart) {
      const u: TestUser = { userId: `@${localpart}:${SERVER}`, deviceId: 'DEV', isAdmin: false, token: `tok-${localpart}` };
      users.set(u.token, u);
      return u;
    },
    call,
    async createRoom(u, req = {}) {
      return (await rooms.creator.createRoom(u, req)).room_id;
    },
    send(u, roomId, content, type = 'm.room.message') {
      return call('PUT', `${C3}/rooms/${encodeURIComponent(roomId)}/send/${type}/t${txn++}`, { token: u.token, body: content });
    },
    async message(u, roomId, body, extra = {}) {
      const res = await h.send(u, roomId, { msgtype: 'm.text', body, ...extra });
      if (res.status !== 200) throw new Error(`send failed: ${res.status} ${JSON.stringify(res.json)}`);
      return res.json.event_id as string;
    },
  };
  try {
    await fn(h);
  } finally {
    sync.close();
    await new Promise((r) => server.close(r));
    await rooms.drain();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const enc = encodeURIComponent;
