// Builds the room directory and the user directory for main.ts and tests.
import { directoryRoutes } from '../api/client/directories.js';
import type { RoomOutputs } from '../events/outputs.js';
import type { Route } from '../http/route.js';
import type { RoomReader } from '../rooms/types.js';
import type { Database } from '../storage/db.js';
import { RoomListRepo } from '../storage/roomListRepo.js';
import { PublicRoomsDirectory, type PublishedRooms, type RemotePublicRooms } from './publicRooms.js';
import { UserDirectory } from './userDirectory.js';

export interface DirectoryModuleDeps {
  db: Database;
  reader: RoomReader;
  outputs: RoomOutputs;
  serverName: string;
  /** storage/publishedRoomsRepo.ts (rooms.storage.published), shared with createRoom and federation. */
  published: PublishedRooms;
  profile(userId: string): Promise<{ displayname?: string; avatar_url?: string }>;
  /** Other servers' directories, once federation provides them. */
  remote?: RemotePublicRooms;
  onError?: (err: unknown, what: string) => void;
}

export interface DirectoryModule {
  routes: Route<unknown, unknown>[];
  publicRooms: PublicRoomsDirectory;
  users: UserDirectory;
  /** Build the user directory from storage and follow the rooms. */
  start(): Promise<void>;
}

export function createDirectoryModule(deps: DirectoryModuleDeps): DirectoryModule {
  const publicRooms = new PublicRoomsDirectory({
    published: deps.published,
    reader: deps.reader,
    serverName: deps.serverName,
    ...(deps.remote ? { remote: deps.remote } : {}),
  });
  publicRooms.attach(deps.outputs);
  const roomList = new RoomListRepo(deps.db);
  const users = new UserDirectory({
    reader: deps.reader,
    allRoomIds: () => roomList.allRoomIds(),
    profile: deps.profile,
    serverName: deps.serverName,
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  return {
    routes: directoryRoutes({ publicRooms, users }),
    publicRooms,
    users,
    start: () => users.start(deps.outputs),
  };
}
