// Builds the messaging features (relations and threads, bundled aggregations, ignored
// users, upgrades, knocking, reports, timestamp lookup, space hierarchy, tags, mutual
// rooms) on top of the room service, for main.ts and tests. Created before the sync
// module, which takes `visible`, `bundle` and `ignored` from here.
import { relationRoutes } from '../api/client/relations.js';
import { roomFeatureRoutes } from '../api/client/roomFeatures.js';
import { mutualRoomsRoutes, tagRoutes } from '../api/client/tags.js';
import { toClientEvent } from '../events/clientEvent.js';
import type { Route } from '../http/route.js';
import type { Rooms } from '../rooms/roomsModule.js';
import type { StoredEvent } from '../rooms/types.js';
import { AccountDataRepo } from '../storage/accountDataRepo.js';
import type { Database } from '../storage/db.js';
import { ReportsRepo } from '../storage/reportsRepo.js';
import type { AccountDataService } from '../sync/accountData.js';
import { BundledAggregations, type Viewer } from './aggregations.js';
import { SpaceHierarchy, type RemoteHierarchy } from './hierarchy.js';
import { IgnoredUsers, hidingIgnored } from './ignoredUsers.js';
import { mutualRooms } from './mutualRooms.js';
import { RelationsService } from './relationsService.js';
import { ReportService } from './reports.js';
import { RoomUpgrader } from './roomUpgrade.js';
import { TagService } from './tags.js';
import { timestampToEvent } from './timestampToEvent.js';

export interface MessagingDeps {
  db: Database;
  rooms: Rooms;
  serverName: string;
  /** Hierarchies of rooms this server is not in, over federation (absent: local rooms only). */
  remoteHierarchy?: RemoteHierarchy;
  now?: () => number;
  onError?: (err: unknown, what: string) => void;
}

export interface MessagingModule {
  routes: Route<unknown, unknown>[];
  /** History visibility without ignored users' events: for the sync module. */
  visible(userId: string, roomId: string, events: StoredEvent[]): Promise<StoredEvent[]>;
  /** unsigned.m.relations for a page of events: for the sync module (and GET /event, already plugged in). */
  bundle(events: StoredEvent[], viewer: Viewer, now: number): Promise<Map<string, Record<string, unknown>>>;
  ignored: IgnoredUsers;
  aggregations: BundledAggregations;
  relations: RelationsService;
  upgrader: RoomUpgrader;
  reports: ReportService;
  /** The tag endpoints, once the sync module's account data service exists. */
  tagRoutes(accountData: Pick<AccountDataService, 'get' | 'set'>): Route<unknown, unknown>[];
}

export function createMessagingModule(deps: MessagingDeps): MessagingModule {
  const { rooms, db } = deps;
  const now = deps.now ?? Date.now;
  const { reader, storage } = rooms;
  const ignored = new IgnoredUsers(new AccountDataRepo(db));
  const visible = hidingIgnored((u, r, evs) => rooms.visibility.filter(u, r, evs), ignored);
  const aggregations = new BundledAggregations({ relations: storage.relations, reader, ignored, format: toClientEvent });
  const bundle = (events: StoredEvent[], viewer: Viewer, at: number) => aggregations.bundle(events, viewer, at);
  rooms.queries.useBundler(bundle);
  const shortRoom = (roomId: string) => storage.ids.room(roomId);

  const relations = new RelationsService({
    relations: storage.relations,
    reader,
    shortRoom,
    visible,
    async serialize(events, viewer) {
      const at = now();
      const out = events.map((e) => toClientEvent(e, viewer, at) as Record<string, unknown>);
      return BundledAggregations.apply(out, await bundle(events, viewer, at));
    },
  });
  const upgrader = new RoomUpgrader({
    reader,
    writer: rooms.writer,
    storage,
    membership: rooms.membership,
    serverName: deps.serverName,
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const reports = new ReportService({ repo: new ReportsRepo(db), reader, visible, now });
  const hierarchy = new SpaceHierarchy(reader, { serverName: deps.serverName, ...(deps.remoteHierarchy ? { remote: deps.remoteHierarchy } : {}) });
  const timestamps = {
    times: storage.eventTimes,
    reader,
    shortRoom,
    eventsByShort: (shorts: number[]) => storage.events.byShorts(shorts),
    visible,
  };
  return {
    routes: [
      ...relationRoutes({ relations }),
      ...roomFeatureRoutes({
        upgrader,
        membership: rooms.membership,
        reports,
        timestampToEvent: (userId, roomId, ts, dir) => timestampToEvent(timestamps, userId, roomId, ts, dir),
        hierarchy,
      }),
      ...mutualRoomsRoutes({ mutualRooms: (requester, other) => mutualRooms(reader, requester, other) }),
    ],
    visible,
    bundle,
    ignored,
    aggregations,
    relations,
    upgrader,
    reports,
    tagRoutes: (accountData) => tagRoutes({ tags: new TagService(accountData) }),
  };
}
