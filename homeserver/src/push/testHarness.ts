// Test support (imported by *.test.ts only): the real room service and the push module
// on a temp database, served through createApp, with a token → user map standing in for
// the accounts service, and the sync module's account data service for `m.push_rules`.
// Built from the shared kit in testing/.
import type { JsonObject } from '@parley/federation/core/types';
import { toClientEvent } from '../events/clientEvent.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { Database } from '../storage/db.js';
import type { StreamCounter } from '../storage/streamCounter.js';
import type { SyncModule } from '../sync/syncModule.js';
import { serveTestApp, type Res } from '../testing/http.js';
import { openTestRoomsModule, openTestSync, roomActions } from '../testing/rooms.js';
import { openTestStorage } from '../testing/storage.js';
import { TestUsers, type TestUser } from '../testing/users.js';
import { createPushModule, type PushModule, type PushModuleDeps } from './pushModule.js';

export type { Res, TestUser };

export const SERVER = 'example.test';
export const C = '/_matrix/client/v3';

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

export type HarnessOptions = Partial<Pick<PushModuleDeps, 'fetch' | 'backoff' | 'legacyMentionRules' | 'now' | 'answered'>>;

export async function withPushServer(opts: HarnessOptions, fn: (h: PushHarness) => Promise<void>): Promise<void> {
  const storage = await openTestStorage({ prefix: 'parley-push-' });
  const { db, stream, outputs } = storage;
  const errors: PushHarness['errors'] = [];
  const onError = (err: unknown, what: string) => errors.push({ err, what });
  const rooms = await openTestRoomsModule(storage, { serverName: SERVER, onError });
  const sync = openTestSync(storage, rooms);
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
  const users = new TestUsers(SERVER);
  const http = await serveTestApp(push.routes, users);
  const act = roomActions(rooms);
  const h: PushHarness = {
    db,
    rooms,
    push,
    sync,
    stream,
    errors,
    user: (localpart, deviceId = 'DEV') => users.add(localpart, { deviceId, token: `tok-${localpart}-${deviceId}` }),
    call: http.call,
    createRoom: act.createRoom,
    join: act.join,
    send: (u, roomId, content, type = 'm.room.message') => act.sendEvent(u, roomId, type, content),
    settle: () => push.worker.caughtUp(stream.persisted, 10_000),
  };
  try {
    await fn(h);
  } finally {
    await push.close();
    sync.close();
    await http.close();
    await rooms.drain();
    await storage.close();
  }
}
