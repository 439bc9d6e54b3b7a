// Test support (imported by *.test.ts only) for presence, directories, search, 3PIDs and
// r0 aliases: the real room, sync, presence, directory and search modules on a temp
// database, served through createApp (with r0 aliases as main.ts mounts them), and a
// token → user map standing in for the accounts service.
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import { threepidRoutes } from '../api/client/threepid.js';
import { toClientEvent } from '../events/clientEvent.js';
import { withR0Aliases } from '../http/r0Aliases.js';
import { createPresenceModule, type PresenceModule } from '../presence/presenceModule.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import type { Rooms } from '../rooms/roomsModule.js';
import { createSearchModule, type SearchModule } from '../search/searchModule.js';
import type { SyncModule } from '../sync/syncModule.js';
import { serveTestApp, type CallOptions, type Res } from '../testing/http.js';
import { openTestRoomsModule, openTestSync, roomActions } from '../testing/rooms.js';
import { openTestStorage } from '../testing/storage.js';
import { TestUsers, type TestUser } from '../testing/users.js';
import { createDirectoryModule, type DirectoryModule } from './directoryModule.js';

export const SERVER = 'example.test';
export const C = '/_matrix/client/v3';

export type KitUser = TestUser;
export type { Res };

export interface Kit {
  dir: string;
  rooms: Rooms;
  sync: SyncModule;
  presence: PresenceModule;
  directory: DirectoryModule;
  search: SearchModule;
  /** Every profile the kit's profile lookup answers from (set before the user joins rooms). */
  profiles: Map<string, { displayname?: string; avatar_url?: string }>;
  user(localpart: string, opts?: { admin?: boolean }): KitUser;
  call(method: string, path: string, opts?: CallOptions): Promise<Res>;
  createRoom(u: KitUser, req?: CreateRoomRequest): Promise<string>;
  send(u: KitUser, roomId: string, body: string): Promise<string>;
  /** Wait until the search index and the user directory have caught up. */
  settle(): Promise<void>;
}

export interface KitOptions {
  presenceEnabled?: boolean;
  /** The presence module's clock. */
  now?: () => number;
  allowQueryToken?: boolean;
  /** Reuse a data directory (restart tests); it is then not deleted. */
  dir?: string;
  signingKey?: SigningKey;
}

export async function withKit(fn: (k: Kit) => Promise<void>, opts: KitOptions = {}): Promise<void> {
  const storage = await openTestStorage({ prefix: 'parley-5b-', ...(opts.dir ? { dir: opts.dir } : {}) });
  const { dir, db, stream, outputs } = storage;
  const profiles = new Map<string, { displayname?: string; avatar_url?: string }>();
  const profile = async (userId: string) => profiles.get(userId) ?? {};
  const rooms = await openTestRoomsModule(storage, { serverName: SERVER, ...(opts.signingKey ? { signingKey: opts.signingKey } : {}), profiles: { profile } });
  const visible = (userId: string, roomId: string, events: Parameters<Rooms['visibility']['filter']>[2]) => rooms.visibility.filter(userId, roomId, events);
  const sync = openTestSync(storage, rooms, { visible });
  const presence = createPresenceModule({
    db,
    enabled: opts.presenceEnabled ?? true,
    serverName: SERVER,
    reader: rooms.reader,
    outputs,
    stream,
    notifier: sync.notifier,
    sync: sync.sync,
    ...(opts.now ? { now: opts.now } : {}),
  });
  await presence.start();
  const directory = createDirectoryModule({ db, reader: rooms.reader, outputs, serverName: SERVER, published: rooms.storage.published, profile });
  await directory.start();
  const search = createSearchModule({
    db,
    reader: rooms.reader,
    outputs,
    stream,
    roomShort: (roomId) => rooms.storage.ids.room(roomId),
    visible,
    format: toClientEvent,
  });
  await search.start();

  const users = new TestUsers(SERVER);
  const http = await serveTestApp(withR0Aliases([...sync.routes, ...presence.routes, ...directory.routes, ...search.routes, ...threepidRoutes()]), users, {
    allowQueryToken: opts.allowQueryToken ?? false,
  });
  const act = roomActions(rooms);

  const kit: Kit = {
    dir,
    rooms,
    sync,
    presence,
    directory,
    search,
    profiles,
    user: (localpart, o = {}) => users.add(localpart, { admin: o.admin ?? false }),
    call: http.call,
    createRoom: act.createRoom,
    send: (u, roomId, body) => act.sendText(u, roomId, body),
    async settle() {
      // Outputs fire after durability; let the stream advance and the queues drain.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setImmediate(r));
        search.indexer.kick();
        await presence.idle();
        await search.indexer.idle();
        await directory.users.idle();
      }
    },
  };
  try {
    await fn(kit);
  } finally {
    presence.close();
    sync.close();
    await http.close();
    await rooms.drain();
    await search.indexer.idle();
    await storage.close();
  }
}
