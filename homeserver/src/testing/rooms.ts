// Test support: the real room service and sync module on a TestStorage, wired the
// way main.ts wires them (history visibility, client event format).
import { generateSigningKey } from '@parley/federation/signing/ed25519Key';
import type { JsonObject } from '@parley/federation/core/types';
import { toClientEvent } from '../events/clientEvent.js';
import type { Requester } from '../http/route.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import { openRooms, type Rooms, type RoomsDeps } from '../rooms/roomsModule.js';
import { createSyncModule, type SyncModule, type SyncModuleDeps } from '../sync/syncModule.js';
import type { TestStorage } from './storage.js';

/** Rooms on `s`: a fresh signing key and empty profiles unless `deps` says otherwise. */
export function openTestRoomsModule(s: TestStorage, deps: Partial<RoomsDeps> & { serverName: string }): Promise<Rooms> {
  return openRooms({
    db: s.db,
    counter: s.stream,
    outputs: s.outputs,
    signingKey: generateSigningKey(),
    profiles: { profile: async () => ({}) },
    ...deps,
  });
}

/** The sync module on `s` over `rooms`, with `overrides` (messaging's filters, a window cap …). */
export function openTestSync(s: TestStorage, rooms: Rooms, overrides: Partial<SyncModuleDeps> = {}): SyncModule {
  return createSyncModule({
    db: s.db,
    stream: s.stream,
    reader: rooms.reader,
    outputs: s.outputs,
    visible: (userId, roomId, events) => rooms.visibility.filter(userId, roomId, events),
    format: toClientEvent,
    ...overrides,
  });
}

// Unique in the process, so that a restarted server on the same data never sees a
// transaction ID again (it would answer with the earlier event).
let txn = 0;

/** Room writes through the services (no HTTP), for setting up a test. */
export function roomActions(rooms: Rooms) {
  return {
    async createRoom(u: Requester, req: CreateRoomRequest = {}): Promise<string> {
      return (await rooms.creator.createRoom(u, req)).room_id;
    },
    async join(u: Requester, roomId: string): Promise<void> {
      await rooms.membership.join(u.userId, roomId);
    },
    sendEvent(u: Requester, roomId: string, type: string, content: JsonObject): Promise<string> {
      return rooms.events.send(u, roomId, type, `t${txn++}`, content);
    },
    sendText(u: Requester, roomId: string, body: string, extra: JsonObject = {}): Promise<string> {
      return rooms.events.send(u, roomId, 'm.room.message', `t${txn++}`, { msgtype: 'm.text', body, ...extra });
    },
  };
}

/** A fresh transaction ID for PUT …/send/{type}/{txnId} over HTTP. */
export const nextTxnId = (): string => `t${txn++}`;
