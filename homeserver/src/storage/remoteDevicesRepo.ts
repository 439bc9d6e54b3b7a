// The cache of other servers' users' device lists and cross-signing keys, fed by
// m.device_list_update / m.signing_key_update EDUs and GET user/devices resyncs.
// Layout: schema.ts userid_remotedevices (one record per remote user: device lists are small).
// A change is written together with its device-list stream entry (E2eeRepo ops), so a
// cached update is never without the /sync "changed" mark that announces it.
import type { CrossSigningKey, DeviceKeys } from '@parley/e2ee/types';
import { strKey, type BatchOp, type Database } from './db.js';

export interface RemoteDevice {
  keys?: DeviceKeys;
  displayName?: string;
}

export interface RemoteDeviceList {
  /** The remote server's stream_id of the newest update applied. */
  streamId: number;
  devices: Record<string, RemoteDevice>;
  masterKey?: CrossSigningKey;
  selfSigningKey?: CrossSigningKey;
  /** An update was missed and a resync has not succeeded yet: don't answer from the cache. */
  stale?: boolean;
  updatedTs: number;
}

export class RemoteDevicesRepo {
  constructor(
    private readonly db: Database,
    /** E2eeRepo.deviceListChangeOps: the device-list stream entry of a change at `pos`. */
    private readonly changeOps: (userId: string, pos: number) => BatchOp[],
  ) {}

  get(userId: string): Promise<RemoteDeviceList | undefined> {
    return this.db.get<RemoteDeviceList>('userid_remotedevices', strKey(userId));
  }

  /** Store the user's list; with `changePos`, record a device-list change there in the same batch. */
  async put(userId: string, list: RemoteDeviceList, changePos?: number): Promise<void> {
    const ops = [this.db.put('userid_remotedevices', strKey(userId), list)];
    if (changePos !== undefined) ops.push(...this.changeOps(userId, changePos));
    await this.db.write(ops);
  }
}
