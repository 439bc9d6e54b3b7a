// Builds the end-to-end encryption key server (@parley/e2ee) over this
// homeserver's storage, devices, rooms and sync notifier, with its routes.
import {
  E2eeService,
  type ChangeNotifier,
  type DeviceDirectory,
  type MembershipChangeHints,
  type MembershipReader,
  type OutgoingToDevicePort,
  type RemoteKeysPort,
  type StreamPositions,
} from '@parley/e2ee';
import type { UserInteractiveAuth } from '../auth/uia.js';
import type { RoomOutputs } from '../events/outputs.js';
import type { Route } from '../http/route.js';
import { crossSigningRoutes } from '../api/client/crossSigning.js';
import { dehydratedDeviceRoutes } from '../api/client/dehydratedDevice.js';
import { keyBackupRoutes } from '../api/client/keyBackup.js';
import { keysRoutes } from '../api/client/keys.js';
import { toDeviceRoutes } from '../api/client/toDevice.js';
import type { Database } from '../storage/db.js';
import { DevicesRepo } from '../storage/devicesRepo.js';
import { E2eeRepo } from '../storage/e2eeRepo.js';
import { Lru } from '../storage/lru.js';
import { StreamChangeCache } from '../sync/changeCache.js';
import type { DeviceManager } from '../users/devices.js';
import type { DeviceEventsPort } from '../users/ports.js';

/** Rooms whose last membership change before start-up is remembered (see membershipHints). */
const LAST_CHANGE_ROOMS = 10_000;

export interface E2eeModuleDeps {
  db: Database;
  serverName: string;
  stream: StreamPositions;
  /** sync/notifier.ts SyncNotifier. */
  notifier: ChangeNotifier;
  /** rooms/types.ts RoomReader. */
  rooms: MembershipReader;
  /** The room service's outputs: membership events tell which rooms device-list queries must look at. */
  outputs: RoomOutputs;
  devices: Pick<DeviceManager, 'listDevices' | 'deleteDevices' | 'withUserLock'>;
  uia: Pick<UserInteractiveAuth, 'authenticate'>;
  /** Federation: keys of remote users, and to-device messages for them (absent: unreachable / dropped). */
  remote?: RemoteKeysPort;
  outgoingToDevice?: OutgoingToDevicePort;
}

export interface E2eeModule {
  service: E2eeService;
  /** For the accounts service: deleted and renamed devices. */
  deviceEvents: DeviceEventsPort;
  routes: Route<unknown, unknown>[];
}

export function createE2eeModule(deps: E2eeModuleDeps): E2eeModule {
  const devicesRepo = new DevicesRepo(deps.db);
  const directory: DeviceDirectory = {
    devices: async (userId) =>
      (await deps.devices.listDevices(userId)).map((d) => ({
        deviceId: d.deviceId,
        ...(d.displayName !== undefined ? { displayName: d.displayName } : {}),
      })),
    // Dehydrated devices have no access token: only their keys and queue are used.
    createDevice: (userId, deviceId, displayName) =>
      deps.devices.withUserLock(userId, async () => {
        if (await devicesRepo.getDevice(userId, deviceId)) return;
        await devicesRepo.write([
          devicesRepo.putDevice(userId, { deviceId, ...(displayName !== undefined ? { displayName } : {}), createdTs: Date.now() }),
        ]);
      }),
    deleteDevices: (userId, deviceIds) => deps.devices.deleteDevices(userId, deviceIds),
  };
  // Emitted in the same tick as the room write's position is finished, so a reader never sees the position without it.
  const startedAt = deps.stream.persisted;
  const memberChanges = new StreamChangeCache(startedAt);
  deps.outputs.subscribe((out) => {
    if (out.kind === 'new_event' && out.event.pdu.type === 'm.room.member') memberChanges.record(out.event.roomId, out.event.stream);
  });
  // Rooms' last membership change before start-up, from their member lists (read once per room).
  const lastChangeAtStart = new Lru<string, Promise<number>>(LAST_CHANGE_ROOMS);
  const membershipHints: MembershipChangeHints = {
    mayHaveChangedSince(roomId, since) {
      if (!memberChanges.mayHaveChangedSince(roomId, since)) return false;
      const recorded = memberChanges.lastChange(roomId);
      if (since >= startedAt || memberChanges.earliestKnown !== startedAt || (recorded !== undefined && recorded > since)) return true;
      // Unknown only because `since` is older than this process: every client's first sync after
      // a restart. Answered from the room's member list once, instead of each of those syncs
      // walking every member of the room (10,000 syncs × 10,000 members, measured: 12.8 s).
      let last = lastChangeAtStart.get(roomId);
      if (!last) {
        last = deps.rooms.members(roomId).then((ms) => ms.reduce((max, m) => Math.max(max, m.member.stream), 0));
        lastChangeAtStart.set(roomId, last);
        last.catch(() => lastChangeAtStart.get(roomId) === last && lastChangeAtStart.delete(roomId));
      }
      return last.then((pos) => pos > since);
    },
  };
  const service = new E2eeService({
    store: new E2eeRepo(deps.db),
    devices: directory,
    rooms: deps.rooms,
    membershipHints,
    stream: deps.stream,
    notifier: deps.notifier,
    serverName: deps.serverName,
    ...(deps.remote ? { remote: deps.remote } : {}),
    ...(deps.outgoingToDevice ? { outgoingToDevice: deps.outgoingToDevice } : {}),
  });
  return {
    service,
    deviceEvents: {
      devicesDeleted: (userId, deviceIds) => service.devicesDeleted(userId, deviceIds),
      deviceUpdated: (userId, deviceId) => service.deviceUpdated(userId, deviceId),
    },
    routes: [
      ...keysRoutes({ keys: service.keys, deviceLists: service.deviceLists, stream: deps.stream }),
      ...crossSigningRoutes({ crossSigning: service.crossSigning, uia: deps.uia }),
      ...toDeviceRoutes({ toDevice: service.toDevice }),
      ...keyBackupRoutes({ backup: service.backup }),
      ...dehydratedDeviceRoutes({ dehydrated: service.dehydrated }),
    ],
  };
}
