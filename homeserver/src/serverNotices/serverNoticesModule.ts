// Builds server notices (serverNotices.ts) from the services it drives, for main.ts to mount:
// the admin routes, and the leave guard for the rooms' membership service.
import { serverNoticeRoutes } from '../api/admin/serverNotices.js';
import type { ServerNoticesConfig } from '../config/config.js';
import type { Route } from '../http/route.js';
import { TagService } from '../messaging/tags.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { Database } from '../storage/db.js';
import { ServerNoticesRepo } from '../storage/serverNoticesRepo.js';
import { UsersRepo } from '../storage/usersRepo.js';
import type { AccountDataService } from '../sync/accountData.js';
import type { AccountsModule } from '../users/accountsModule.js';
import { ServerNotices } from './serverNotices.js';

export interface ServerNoticesModuleDeps {
  db: Database;
  serverName: string;
  /** Absent: server notices are off and the admin endpoint refuses. */
  config: ServerNoticesConfig | undefined;
  accounts: Pick<AccountsModule, 'accounts' | 'profiles'>;
  rooms: Pick<Rooms, 'creator' | 'events' | 'reader' | 'membership'>;
  accountData: Pick<AccountDataService, 'get' | 'set'>;
}

export interface ServerNoticesModule {
  notices: ServerNotices | undefined;
  routes: Route<unknown, unknown>[];
  /** Creates the system user; call once the services are wired. */
  start(): Promise<void>;
}

export function createServerNoticesModule(deps: ServerNoticesModuleDeps): ServerNoticesModule {
  const { config, rooms, accounts } = deps;
  if (config === undefined) return { notices: undefined, routes: serverNoticeRoutes({ notices: undefined }), start: async () => {} };
  const users = new UsersRepo(deps.db);
  const tags = new TagService(deps.accountData);
  const notices = new ServerNotices({
    serverName: deps.serverName,
    config,
    repo: new ServerNoticesRepo(deps.db),
    users: {
      exists: async (userId) => (await users.getUser(userId)) !== undefined,
      create: async (localpart, displayname) => {
        await accounts.accounts.register({ localpart, ...(displayname !== undefined ? { displayname } : {}) });
      },
      profile: async (userId) => (await accounts.profiles.getProfile(userId)) ?? {},
      setProfileField: (userId, field, value) => accounts.profiles.setField(userId, userId, field, value),
    },
    rooms: {
      create: async (requester, req) => (await rooms.creator.createRoom(requester, req)).room_id,
      send: (requester, roomId, type, txnId, content) => rooms.events.send(requester, roomId, type, txnId, content),
      setState: (requester, roomId, type, stateKey, content) => rooms.events.setState(requester, roomId, type, stateKey, content),
      membership: (roomId, userId) => rooms.reader.membership(roomId, userId),
    },
    tags: { add: (userId, roomId, tag) => tags.put(userId, userId, roomId, tag, {}) },
  });
  rooms.membership.useLeaveGuard(notices.guardLeave);
  return { notices, routes: serverNoticeRoutes({ notices }), start: () => notices.start() };
}
