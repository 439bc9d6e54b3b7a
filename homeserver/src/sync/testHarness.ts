// Test support (imported by *.test.ts only): the real room service and the real sync
// module on a temp database, served through createApp, with a token → user map
// standing in for the accounts service. Built from the shared kit in testing/.
import type { JsonObject } from '@parley/federation/core/types';
import { toClientEvent } from '../events/clientEvent.js';
import { createPushModule, syncUnreadCounter, type PushModule } from '../push/pushModule.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { StreamCounter } from '../storage/streamCounter.js';
import { serveTestApp, type Call, type Res } from '../testing/http.js';
import { openTestRoomsModule, openTestSync, roomActions } from '../testing/rooms.js';
import { openTestStorage } from '../testing/storage.js';
import { TestUsers, type TestUser } from '../testing/users.js';
import type { SyncModule, SyncModuleDeps } from './syncModule.js';

export type { Res, TestUser };

export const SERVER = 'example.test';
export const C = '/_matrix/client/v3';

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

export async function withSyncServer(
  fn: (h: Harness) => Promise<void>,
  /** `push`: unread counts from the push module, wired as the server does (main.ts). */
  opts: { windowCap?: number; push?: boolean; deps?: (rooms: Rooms) => Partial<SyncModuleDeps> } = {},
): Promise<void> {
  const storage = await openTestStorage({ prefix: 'parley-sync-' });
  const rooms = await openTestRoomsModule(storage, { serverName: SERVER });
  let push: PushModule | undefined;
  const counts: Partial<SyncModuleDeps> = opts.push
    ? { unread: syncUnreadCounter(() => push!), onRead: (userId, roomId, eventId, thread) => push!.receiptMoved(userId, roomId, eventId, thread) }
    : {};
  const sync = openTestSync(storage, rooms, { windowCap: opts.windowCap, ...counts, ...opts.deps?.(rooms) });
  if (opts.push) {
    const { db, stream, outputs } = storage;
    push = createPushModule({ db, reader: rooms.reader, outputs, stream, serverName: SERVER, format: toClientEvent, accountData: sync.accountData, answered: () => sync.notifier.drained() });
    sync.notifier.setReadyGate((pos) => push!.worker.countedUpTo(pos));
    await push.start();
  }
  const users = new TestUsers(SERVER);
  const http = await serveTestApp(sync.routes, users);
  const call: Call = http.call;
  const act = roomActions(rooms);
  const h: Harness = {
    rooms,
    sync,
    stream: storage.stream,
    user: (localpart, deviceId = 'DEV') => users.add(localpart, { deviceId, token: `tok-${localpart}-${deviceId}` }),
    call,
    syncRaw(u, params = {}) {
      const qs = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
      return call('GET', `${C}/sync${qs ? '?' + qs : ''}`, { token: u.token });
    },
    createRoom: act.createRoom,
    send: act.sendText,
  };
  try {
    await fn(h);
  } finally {
    await push?.close();
    sync.close();
    await http.close();
    await rooms.drain();
    await storage.close();
  }
}
