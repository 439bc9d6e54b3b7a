// Test support (imported by *.test.ts only): the real room service and the real sync
// module on a temp database, served through createApp, with a token → user map
// standing in for the accounts service.
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
import { createSyncModule, type SyncModule } from './syncModule.js';

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

export interface Harness {
  rooms: Rooms;
  sync: SyncModule;
  stream: StreamCounter;
  user(localpart: string, deviceId?: string): TestUser;
  call(method: string, path: string, opts?: { token?: string; body?: unknown }): Promise<Res>;
  /** GET /sync with query parameters; asserts nothing. */
  syncRaw(u: TestUser, params?: Record<string, string | number | boolean>): Promise<Res>;
  createRoom(u: TestUser, req?: CreateRoomRequest): Promise<string>;
  send(u: TestUser, roomId: string, body: string, extra?: JsonObject): Promise<string>;
}

let txn = 0;

export async function withSyncServer(fn: (h: Harness) => Promise<void>, opts: { windowCap?: number } = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sync-'));
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
  const sync = createSyncModule({
    db,
    stream,
    reader: rooms.reader,
    outputs,
    visible: (userId, roomId, events) => rooms.visibility.filter(userId, roomId, events),
    format: toClientEvent,
    windowCap: opts.windowCap,
  });
  const users = new Map<string, TestUser>();
  const logger = pino({ level: 'silent' });
  const app = createApp({
    routes: sync.routes,
    authenticator: { authenticate: async (token) => users.get(token) },
    rateLimiter: undefined,
    logger,
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
    rooms,
    sync,
    stream,
    user(localpart, deviceId = 'DEV') {
      const u: TestUser = { userId: `@${localpart}:${SERVER}`, deviceId, isAdmin: false, token: `tok-${localpart}-${deviceId}` };
      users.set(u.token, u);
      return u;
    },
    call,
    syncRaw(u, params = {}) {
      const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
      return call('GET', `${C}/sync${qs ? '?' + qs : ''}`, { token: u.token });
    },
    async createRoom(u, req = {}) {
      return (await rooms.creator.createRoom(u, req)).room_id;
    },
    async send(u, roomId, body, extra = {}) {
      return rooms.events.send(u, roomId, 'm.room.message', `t${txn++}`, { msgtype: 'm.text', body, ...extra });
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
