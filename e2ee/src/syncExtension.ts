// The key server's part of the /sync response: to-device messages, device-list
// changes, one-time key counts and unused fallback key types. Fits the sync
// module's SyncExtension contract (homeserver/src/sync/syncService.ts).
// Spec: modules/end_to_end_encryption.md "Extensions to /sync"; modules/send_to_device.md "Extensions to /sync".
import type { DeviceKeysService, QuietKeys } from './deviceKeys.js';
import type { DeviceLists } from './deviceLists.js';
import type { ToDeviceService } from './toDevice.js';

/** A window in which nothing was announced for the viewer or `roomIds`, all their joined rooms. */
export interface QuietWindow {
  viewer: { userId: string; deviceId: string };
  since: number;
  roomIds: readonly string[];
}

export interface SyncWindow {
  viewer: { userId: string; deviceId: string };
  since: number | undefined;
  upTo: number;
}

export class E2eeSyncExtension {
  constructor(
    private readonly keys: Pick<DeviceKeysService, 'oneTimeKeyCounts' | 'unusedFallbackKeyTypes' | 'quietSyncKeys'>,
    private readonly toDevice: Pick<ToDeviceService, 'forSync'>,
    private readonly deviceLists: Pick<DeviceLists, 'changesFor' | 'membershipsUnchanged'>,
  ) {}

  /**
   * A quiet window (the sync module's SyncExtension.quietFields): to-device messages and the
   * user's own device changes are announced to the user, device-list changes of others to
   * their rooms, so none is in it; with no membership change in the user's rooms either, the
   * device lists are unchanged. The key counts come from memory. Otherwise undefined.
   */
  quietFields(w: QuietWindow): Record<string, unknown> | undefined {
    if (!this.deviceLists.membershipsUnchanged(w.roomIds, w.since)) return undefined;
    const quiet = this.keys.quietSyncKeys(w.viewer.userId, w.viewer.deviceId);
    return quiet && quietDeviceFields(quiet, NO_CHANGES);
  }

  async contribute(w: SyncWindow): Promise<{ fields: Record<string, unknown>; hasNews: boolean }> {
    const { userId, deviceId } = w.viewer;
    // Nothing queued for the device (so nothing to deliver or acknowledge) and its keys in
    // memory: only the device lists are asked (every woken sync of a quiet device).
    const quiet = w.since !== undefined ? this.keys.quietSyncKeys(userId, deviceId) : undefined;
    if (quiet && w.since !== undefined) {
      const lists = await this.deviceLists.changesFor(userId, w.since, w.upTo);
      return { fields: quietDeviceFields(quiet, lists), hasNews: lists.changed.length > 0 || lists.left.length > 0 };
    }
    const [events, lists, counts, fallbacks] = await Promise.all([
      this.toDevice.forSync(userId, deviceId, w.since, w.upTo),
      // Device lists only make sense relative to an earlier sync (spec: incremental only).
      w.since !== undefined ? this.deviceLists.changesFor(userId, w.since, w.upTo) : { changed: [], left: [] },
      this.keys.oneTimeKeyCounts(userId, deviceId),
      this.keys.unusedFallbackKeyTypes(userId, deviceId),
    ]);
    return {
      fields: {
        to_device: { events },
        device_lists: lists,
        device_one_time_keys_count: counts,
        device_unused_fallback_key_types: fallbacks,
      },
      hasNews: events.length > 0 || lists.changed.length > 0 || lists.left.length > 0,
    };
  }
}

type DeviceListChanges = { changed: readonly string[]; left: readonly string[] };
const NO_CHANGES: DeviceListChanges = Object.freeze({ changed: Object.freeze([]), left: Object.freeze([]) });
const NO_TO_DEVICE = Object.freeze({ events: Object.freeze([]) });
/** Fields of quiet devices without device-list changes, by their keys' fields (read-only, shared). */
const unchangedFields = new WeakMap<QuietKeys, Record<string, unknown>>();

/** The fields of a device with nothing queued and its key counts in memory. */
function quietDeviceFields(quiet: QuietKeys, lists: DeviceListChanges): Record<string, unknown> {
  const unchanged = lists.changed.length === 0 && lists.left.length === 0;
  let fields = unchanged ? unchangedFields.get(quiet) : undefined;
  if (!fields) {
    fields = { to_device: NO_TO_DEVICE, device_lists: unchanged ? NO_CHANGES : lists, device_one_time_keys_count: quiet.counts, device_unused_fallback_key_types: quiet.fallbackTypes };
    if (unchanged) unchangedFields.set(quiet, Object.freeze(fields));
  }
  return fields;
}
