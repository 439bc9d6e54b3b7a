// Builds the Synapse-compatible admin API (/_synapse/admin) from the services it drives,
// for main.ts to mount. Every route answers 403 M_FORBIDDEN to non-admins (api/admin/adminAuth.ts).
import { adminMediaRoutes } from '../api/admin/media.js';
import { registrationTokenRoutes } from '../api/admin/registrationTokens.js';
import { adminRoomRoutes } from '../api/admin/rooms.js';
import { serverVersionRoutes } from '../api/admin/serverVersion.js';
import { adminUserRoutes } from '../api/admin/users.js';
import type { Route } from '../http/route.js';
import type { MediaService } from '../media/mediaService.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { BlockedRoomsRepo } from '../storage/blockedRoomsRepo.js';
import type { Database } from '../storage/db.js';
import { UsersRepo } from '../storage/usersRepo.js';
import type { AccountsModule } from '../users/accountsModule.js';
import { AdminRooms } from './adminRooms.js';
import { AdminUsers } from './adminUsers.js';
import { UserRedaction } from './userRedaction.js';

export interface AdminModuleDeps {
  db: Database;
  serverName: string;
  version: string;
  accounts: AccountsModule;
  rooms: Rooms;
  media: MediaService;
  blocked: BlockedRoomsRepo;
  onError: (err: unknown, what: string) => void;
}

export interface AdminModule {
  users: AdminUsers;
  rooms: AdminRooms;
  redaction: UserRedaction;
  routes: Route<unknown, unknown>[];
  /** Let running background tasks (room deletions, redactions) finish. */
  idle(): Promise<void>;
}

export function createAdminModule(deps: AdminModuleDeps): AdminModule {
  const usersRepo = new UsersRepo(deps.db);
  const { accounts, devices, profiles, registrationTokens } = deps.accounts;
  const users = new AdminUsers({ users: usersRepo, accounts, devices, profiles, serverName: deps.serverName });
  const rooms = new AdminRooms({
    rooms: deps.rooms,
    accounts: {
      register: (o) => accounts.register(o),
      userExists: async (userId) => (await usersRepo.getUser(userId)) !== undefined,
    },
    devices,
    blocked: deps.blocked,
    serverName: deps.serverName,
    onError: deps.onError,
  });
  const redaction = new UserRedaction({ reader: deps.rooms.reader, events: deps.rooms.events, serverName: deps.serverName, onError: deps.onError });
  const routes = [
    ...serverVersionRoutes({ version: deps.version }),
    ...adminUserRoutes({ users, redaction }),
    ...adminRoomRoutes({ rooms }),
    ...adminMediaRoutes({ media: deps.media, serverName: deps.serverName }),
    ...registrationTokenRoutes({ tokens: registrationTokens }),
  ];
  return {
    users,
    rooms,
    redaction,
    routes,
    idle: async () => {
      await rooms.deletions.idle();
      await redaction.tasks.idle();
    },
  };
}
