// Dehydrated devices (MSC3814, unstable prefix org.matrix.msc3814.v1): a device
// whose private keys the client stores encrypted on the server, so that it keeps
// receiving to-device messages (room keys) while the user has no device online.
// The server keeps the opaque device_data, the device's public keys, and its queue.
import { forbidden, invalidParam, notFound } from './errors.js';
import type { DeviceKeysService, KeyUploadBody } from './deviceKeys.js';
import type { DeviceDirectory, E2eeStore, StreamPositions } from './ports.js';
import type { ToDeviceEvent, JsonMap } from './types.js';

const EVENTS_LIMIT = 100;
const TOKEN = /^[0-9]{1,15}$/;

export interface DehydratedDeviceBody extends KeyUploadBody {
  device_id: string;
  device_data: JsonMap;
  initial_device_display_name?: string;
}

export interface DehydratedDeviceDeps {
  store: E2eeStore;
  devices: DeviceDirectory;
  keys: Pick<DeviceKeysService, 'upload'>;
  stream: StreamPositions;
}

export class DehydratedDeviceService {
  constructor(private readonly d: DehydratedDeviceDeps) {}

  /** Store a new dehydrated device with its keys; the previous one is deleted. */
  async put(userId: string, body: DehydratedDeviceBody): Promise<{ device_id: string }> {
    const { store, devices } = this.d;
    if (!devices.createDevice || !devices.deleteDevices) throw notFound('Dehydrated devices are not available');
    const old = await store.dehydratedDevice(userId);
    const existing = (await devices.devices(userId)).some((dev) => dev.deviceId === body.device_id);
    if (existing && old?.deviceId !== body.device_id) throw invalidParam('device_id is in use by another device');
    if (old && old.deviceId !== body.device_id) {
      await devices.deleteDevices(userId, [old.deviceId]);
      await store.putDehydratedDevice(userId, undefined);
    }
    await devices.createDevice(userId, body.device_id, body.initial_device_display_name);
    try {
      await this.d.keys.upload(userId, body.device_id, {
        device_keys: body.device_keys,
        one_time_keys: body.one_time_keys,
        fallback_keys: body.fallback_keys,
      });
    } catch (err) {
      // Keys that do not check out leave no device behind.
      if (!existing) await devices.deleteDevices(userId, [body.device_id]);
      throw err;
    }
    await store.putDehydratedDevice(userId, { deviceId: body.device_id, deviceData: body.device_data });
    return { device_id: body.device_id };
  }

  async get(userId: string): Promise<{ device_id: string; device_data: JsonMap }> {
    const dev = await this.d.store.dehydratedDevice(userId);
    if (!dev) throw notFound('No dehydrated device available');
    return { device_id: dev.deviceId, device_data: dev.deviceData };
  }

  async delete(userId: string): Promise<{ device_id: string }> {
    const { store, devices } = this.d;
    const dev = await store.dehydratedDevice(userId);
    if (!dev) throw notFound('No dehydrated device available');
    await store.putDehydratedDevice(userId, undefined);
    await devices.deleteDevices?.(userId, [dev.deviceId]);
    return { device_id: dev.deviceId };
  }

  /** Devices were deleted (by any route, e.g. DELETE /devices): a deleted dehydrated device is no longer offered. */
  async devicesDeleted(userId: string, deviceIds: string[]): Promise<void> {
    const dev = await this.d.store.dehydratedDevice(userId);
    if (dev && deviceIds.includes(dev.deviceId)) await this.d.store.putDehydratedDevice(userId, undefined);
  }

  /**
   * The dehydrated device's queued to-device messages after `nextBatch`, oldest first.
   * Nothing is deleted here (MSC3814 "Rehydrating a device"): a rehydration that dies half
   * way can be started again by another device; the queue goes when the device is replaced.
   * An empty page means everything was read; its next_batch stays where it was.
   */
  async events(userId: string, deviceId: string, nextBatch: string | undefined): Promise<{ events: ToDeviceEvent[]; next_batch: string }> {
    const dev = await this.d.store.dehydratedDevice(userId);
    if (!dev || dev.deviceId !== deviceId) throw forbidden('You may only fetch messages for your dehydrated device');
    if (nextBatch !== undefined && !TOKEN.test(nextBatch)) throw invalidParam('Invalid next_batch');
    const since = nextBatch === undefined ? 0 : Number(nextBatch);
    const entries = await this.d.store.inbox(userId, deviceId, this.d.stream.persisted, EVENTS_LIMIT, since);
    const last = entries.length > 0 ? entries[entries.length - 1].pos : since;
    return { events: entries.map((e) => e.event), next_batch: String(last) };
  }
}
