// Test support (imported by *.test.ts only): the real room service, sync module and
// messaging module on a temp database, served through createApp, with a token → user
// map standing in for the accounts service. Built from the shared kit in testing/.
import type { JsonObject } from '@parley/federation/core/types';
import { roomRoutes } from '../api/client/rooms.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { Database } from '../storage/db.js';
import type { SyncModule } from '../sync/syncModule.js';
import { serveTestApp, type Res } from '../testing/http.js';
import { nextTxnId, openTestRoomsModule, openTestSync, roomActions } from '../testing/rooms.js';
import { openTestStorage } from '../testing/storage.js';
import { TestUsers, type TestUser } from '../testing/users.js';
import { createMessagingModule, type MessagingModule } from './messagingModule.js';

export type { Res, TestUser };

export const SERVER = 'example.test';
export const C3 = '/_matrix/client/v3';
export const C1 = '/_matrix/client/v1';

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

export async function withMessagingServer(fn: (h: Harness) => Promise<void>): Promise<void> {
  const storage = await openTestStorage({ prefix: 'parley-messaging-' });
  const { db } = storage;
  const rooms = await openTestRoomsModule(storage, { serverName: SERVER });
  const messaging = createMessagingModule({ db, rooms, serverName: SERVER });
  const sync = openTestSync(storage, rooms, { visible: messaging.visible, bundle: messaging.bundle, ignored: messaging.ignored });
  const users = new TestUsers(SERVER);
  const http = await serveTestApp([...roomRoutes(rooms), ...sync.routes, ...messaging.routes, ...messaging.tagRoutes(sync.accountData)], users);
  const { call } = http;
  const h: Harness = {
    db,
    rooms,
    sync,
    messaging,
    user: (localpart) => users.add(localpart),
    call,
    createRoom: roomActions(rooms).createRoom,
    send(u, roomId, content, type = 'm.room.message') {
      return call('PUT', `${C3}/rooms/${encodeURIComponent(roomId)}/send/${type}/${nextTxnId()}`, { token: u.token, body: content });
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
    await http.close();
    await rooms.drain();
    await storage.close();
  }
}

export const enc = encodeURIComponent;

/** alice's public room, bob joined to it. */
export async function bobInAlicesRoom(h: Harness): Promise<{ alice: TestUser; bob: TestUser; roomId: string }> {
  const alice = h.user('alice');
  const bob = h.user('bob');
  const roomId = await h.createRoom(alice, { preset: 'public_chat' });
  await h.rooms.membership.join(bob.userId, roomId);
  return { alice, bob, roomId };
}
