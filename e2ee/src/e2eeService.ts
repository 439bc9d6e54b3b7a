// The key server: builds its parts over the ports and offers what /sync and the
// accounts service need. Routes use the parts directly.
import { CrossSigningService } from './crossSigning.js';
import { DeviceKeysService } from './deviceKeys.js';
import { DeviceLists, type DeviceListChanges } from './deviceLists.js';
import { DehydratedDeviceService } from './dehydratedDevice.js';
import { KeyBackupService } from './keyBackup.js';
import { KeyedLock } from './keyedLock.js';
import {
  droppedOutgoingToDevice,
  unreachableRemoteKeys,
  type ChangeNotifier,
  type DeviceDirectory,
  type E2eeStore,
  type MembershipChangeHints,
  type MembershipReader,
  type OutgoingToDevicePort,
  type RemoteKeysPort,
  type StreamPositions,
} from './ports.js';
import { E2eeSyncExtension } from './syncExtension.js';
import { ToDeviceService } from './toDevice.js';
import type { ToDeviceEvent } from './types.js';

export interface E2eeDeps {
  store: E2eeStore;
  devices: DeviceDirectory;
  rooms: MembershipReader;
  /** Lets device-list queries skip rooms without membership changes. */
  membershipHints?: MembershipChangeHints;
  stream: StreamPositions;
  notifier: ChangeNotifier;
  serverName: string;
  remote?: RemoteKeysPort;
  outgoingToDevice?: OutgoingToDevicePort;
}

export class E2eeService {
  readonly deviceLists: DeviceLists;
  readonly crossSigning: CrossSigningService;
  readonly keys: DeviceKeysService;
  readonly toDevice: ToDeviceService;
  readonly backup: KeyBackupService;
  readonly dehydrated: DehydratedDeviceService;
  readonly syncExtension: E2eeSyncExtension;

  constructor(d: E2eeDeps) {
    // One lock for every user's keys: uploads, claims, cross-signing and deletions of one user never interleave.
    const keyLock = new KeyedLock();
    this.deviceLists = new DeviceLists(d.store, d.rooms, d.stream, d.notifier, d.membershipHints);
    this.crossSigning = new CrossSigningService({ store: d.store, devices: d.devices, deviceLists: this.deviceLists, lock: keyLock });
    this.keys = new DeviceKeysService({
      store: d.store,
      devices: d.devices,
      deviceLists: this.deviceLists,
      crossSigning: this.crossSigning,
      stream: d.stream,
      remote: d.remote ?? unreachableRemoteKeys,
      lock: keyLock,
      serverName: d.serverName,
    });
    this.toDevice = new ToDeviceService({
      store: d.store,
      devices: d.devices,
      stream: d.stream,
      notifier: d.notifier,
      outgoing: d.outgoingToDevice ?? droppedOutgoingToDevice,
      lock: new KeyedLock(),
      serverName: d.serverName,
    });
    this.backup = new KeyBackupService(d.store, new KeyedLock());
    this.dehydrated = new DehydratedDeviceService({ store: d.store, devices: d.devices, keys: this.keys, stream: d.stream });
    this.syncExtension = new E2eeSyncExtension(this.keys, this.toDevice, this.deviceLists);
  }

  // ── for /sync ─────────────────────────────────────────────────────────────

  /** Queued to-device messages for the device up to `upTo` (at most 100); `since` acknowledges earlier ones. */
  toDeviceSince(userId: string, deviceId: string, since: number | undefined, upTo: number): Promise<ToDeviceEvent[]> {
    return this.toDevice.forSync(userId, deviceId, since, upTo);
  }

  /** The client synced from `token`: what the response carrying that token delivered is deleted. */
  async ackToDevice(userId: string, deviceId: string, token: number): Promise<void> {
    await this.toDevice.ack(userId, deviceId, token);
  }

  oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>> {
    return this.keys.oneTimeKeyCounts(userId, deviceId);
  }

  unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<string[]> {
    return this.keys.unusedFallbackKeyTypes(userId, deviceId);
  }

  deviceListChanges(userId: string, since: number, upTo: number): Promise<DeviceListChanges> {
    return this.deviceLists.changesFor(userId, since, upTo);
  }

  // ── for the accounts service (its DeviceEventsPort) ───────────────────────

  async devicesDeleted(userId: string, deviceIds: string[]): Promise<void> {
    await this.keys.devicesDeleted(userId, deviceIds);
    await this.dehydrated.devicesDeleted(userId, deviceIds);
  }

  deviceUpdated(userId: string, _deviceId: string): Promise<void> {
    return this.keys.deviceUpdated(userId);
  }
}
