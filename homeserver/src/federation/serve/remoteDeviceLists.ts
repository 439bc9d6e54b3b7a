// Other servers' users' device lists, as this server tracks them for its own users:
// m.device_list_update EDUs are applied in sequence (stream_id / prev_id); a gap or an
// unknown user triggers a resync from GET user/devices; m.signing_key_update replaces the
// cached cross-signing keys. Each change marks the user's device list changed, so local
// room-mates see them in /sync device_lists.changed and re-query; /keys/query for a remote
// user is answered from the cache while it is in sequence (cachedRemoteKeys).
// Spec: server-server-api.md "Device Management", "End-to-End Encryption"; user_devices.yaml;
// m.device_list_update, m.signing_key_update. Where the spec is silent: Synapse's
// DeviceListUpdater (ignore users no local user shares a room with; resync when prev_id is
// not the last applied stream_id or is empty).
import type { CrossSigningKey, DeviceKeys, RemoteKeysPort } from '@parley/e2ee';
import { isValidUserId, serverNameOf } from '@parley/federation/core/ids';
import type { FederationRequester } from '@parley/federation/transport/federationClient';
import type { RoomReader } from '../../rooms/types.js';
import type { RemoteDevice, RemoteDeviceList, RemoteDevicesRepo } from '../../storage/remoteDevicesRepo.js';
import { KeyedLock } from '../../util/keyedLock.js';

/** After a failed resync, no new attempt for a user before this long (the EDUs keep coming). */
export const RESYNC_RETRY_AFTER_MS = 60_000;
const RESYNC_TIMEOUT_MS = 30_000;

export interface RemoteDeviceListsDeps {
  serverName: string;
  repo: Pick<RemoteDevicesRepo, 'get' | 'put'>;
  /** e2ee DeviceLists.change: takes a stream position and wakes the syncs of the user's room-mates. */
  deviceLists: { change<T>(userId: string, write: (pos: number) => Promise<T>): Promise<T> };
  reader: Pick<RoomReader, 'roomsOfUser' | 'members'>;
  client: FederationRequester;
  now?: () => number;
  onWarning?: (msg: string, extra: Record<string, unknown>) => void;
}

interface UserDevicesAnswer {
  user_id?: unknown;
  stream_id?: unknown;
  devices?: unknown;
  master_key?: unknown;
  self_signing_key?: unknown;
}

export class RemoteDeviceLists {
  private readonly lock = new KeyedLock();
  /** user → when the last failed resync happened. */
  private readonly failedAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly d: RemoteDeviceListsDeps) {
    this.now = d.now ?? Date.now;
  }

  /** An m.device_list_update EDU from `origin`. */
  async onDeviceListUpdate(origin: string, c: Record<string, unknown>): Promise<void> {
    const { user_id: userId, device_id: deviceId, stream_id: streamId } = c;
    if (typeof userId !== 'string' || typeof deviceId !== 'string' || !isSafeInt(streamId)) return;
    if (!this.isRemoteUserOf(userId, origin) || !(await this.sharesRoomWithLocal(userId))) return;
    const prevIds = Array.isArray(c.prev_id) ? c.prev_id.filter(isSafeInt) : [];
    await this.lock.run(userId, async () => {
      const cached = await this.d.repo.get(userId);
      if (cached && !cached.stale && streamId <= cached.streamId) return; // already applied (or in a snapshot)
      const inSequence = cached !== undefined && !cached.stale && prevIds.length > 0 && prevIds.every((p) => p <= cached.streamId);
      if (!inSequence) {
        await this.resyncLocked(userId, cached, true);
        return;
      }
      const devices = { ...cached.devices };
      if (c.deleted === true) delete devices[deviceId];
      else devices[deviceId] = deviceEntry(c.keys, c.device_display_name, userId, deviceId);
      const list: RemoteDeviceList = { ...cached, streamId, devices, updatedTs: this.now() };
      await this.d.deviceLists.change(userId, (pos) => this.d.repo.put(userId, list, pos));
    });
  }

  /** An m.signing_key_update EDU from `origin`. */
  async onSigningKeyUpdate(origin: string, c: Record<string, unknown>): Promise<void> {
    const userId = c.user_id;
    if (typeof userId !== 'string' || !this.isRemoteUserOf(userId, origin) || !(await this.sharesRoomWithLocal(userId))) return;
    const master = crossSigningKey(c.master_key, userId, 'master');
    const selfSigning = crossSigningKey(c.self_signing_key, userId, 'self_signing');
    if (!master && !selfSigning) return;
    await this.lock.run(userId, async () => {
      const cached = await this.d.repo.get(userId);
      // Without a cached list the keys are fetched from the server when asked for; clients still need to hear of the change.
      const list: RemoteDeviceList = cached
        ? { ...cached, ...(master ? { masterKey: master } : {}), ...(selfSigning ? { selfSigningKey: selfSigning } : {}), updatedTs: this.now() }
        : { streamId: 0, devices: {}, stale: true, updatedTs: this.now() };
      await this.d.deviceLists.change(userId, (pos) => this.d.repo.put(userId, list, pos));
    });
  }

  /** Fetch the user's whole list again (rate-limited after failures); true when the cache is now in sequence. */
  resync(userId: string): Promise<boolean> {
    return this.lock.run(userId, async () => this.resyncLocked(userId, await this.d.repo.get(userId), false));
  }

  /** The cached list, if it can answer for the user now (in sequence). */
  async fresh(userId: string): Promise<RemoteDeviceList | undefined> {
    const list = await this.d.repo.get(userId);
    return list && !list.stale ? list : undefined;
  }

  /** Whether a local user is joined to a room the user is joined to (we track only such users). */
  async sharesRoomWithLocal(userId: string): Promise<boolean> {
    const suffix = `:${this.d.serverName}`;
    for (const r of await this.d.reader.roomsOfUser(userId)) {
      if (r.member.membership !== 'join') continue;
      if ((await this.d.reader.members(r.roomId)).some((m) => m.member.membership === 'join' && m.userId.endsWith(suffix))) return true;
    }
    return false;
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** `announce`: an EDU said the list changed, so watchers hear of the new list (or of it going stale). */
  private async resyncLocked(userId: string, cached: RemoteDeviceList | undefined, announce: boolean): Promise<boolean> {
    const server = serverNameOf(userId)!;
    const failed = this.failedAt.get(userId);
    const fetched = failed !== undefined && this.now() - failed < RESYNC_RETRY_AFTER_MS ? undefined : await this.fetch(server, userId);
    if (!fetched) {
      if (failed === undefined || this.now() - failed >= RESYNC_RETRY_AFTER_MS) this.failedAt.set(userId, this.now());
      // Out of sequence: /keys/query asks the user's server until a resync succeeds.
      if (cached && !cached.stale) {
        const stale: RemoteDeviceList = { ...cached, stale: true, updatedTs: this.now() };
        await this.d.deviceLists.change(userId, (pos) => this.d.repo.put(userId, stale, pos));
      }
      return false;
    }
    this.failedAt.delete(userId);
    const changed = announce || (cached !== undefined && JSON.stringify({ ...cached, updatedTs: 0 }) !== JSON.stringify({ ...fetched, updatedTs: 0 }));
    if (changed) await this.d.deviceLists.change(userId, (pos) => this.d.repo.put(userId, fetched, pos));
    else await this.d.repo.put(userId, fetched);
    return true;
  }

  private async fetch(server: string, userId: string): Promise<RemoteDeviceList | undefined> {
    const res = await this.d.client
      .request<UserDevicesAnswer>({
        destination: server,
        method: 'GET',
        path: `/_matrix/federation/v1/user/devices/${encodeURIComponent(userId)}`,
        timeoutMs: RESYNC_TIMEOUT_MS,
      })
      .catch(() => undefined);
    if (!res?.ok) {
      this.d.onWarning?.('device list resync failed', { userId, err: res ? `${res.status} ${res.errcode}` : 'request failed' });
      return undefined;
    }
    const b = res.body;
    if (!isObject(b) || b.user_id !== userId || !isSafeInt(b.stream_id) || !Array.isArray(b.devices)) {
      this.d.onWarning?.('device list resync: malformed answer', { userId });
      return undefined;
    }
    const devices: Record<string, RemoteDevice> = {};
    for (const dev of b.devices) {
      if (!isObject(dev) || typeof dev.device_id !== 'string') continue;
      devices[dev.device_id] = deviceEntry(dev.keys, dev.device_display_name, userId, dev.device_id);
    }
    const master = crossSigningKey(b.master_key, userId, 'master');
    const selfSigning = crossSigningKey(b.self_signing_key, userId, 'self_signing');
    return {
      streamId: b.stream_id,
      devices,
      ...(master ? { masterKey: master } : {}),
      ...(selfSigning ? { selfSigningKey: selfSigning } : {}),
      updatedTs: this.now(),
    };
  }

  private isRemoteUserOf(userId: string, origin: string): boolean {
    return isValidUserId(userId) && serverNameOf(userId) === origin && origin !== this.d.serverName;
  }
}

/**
 * RemoteKeysPort for the key server: users whose cached list is in sequence are answered
 * from the cache; the others are asked of their server (`fallback`), and users a local user
 * shares a room with get their list cached in the background for next time.
 */
export function cachedRemoteKeys(lists: RemoteDeviceLists, fallback: RemoteKeysPort): RemoteKeysPort {
  return {
    async queryKeys(server, deviceKeys, timeoutMs) {
      const answer: {
        device_keys: Record<string, Record<string, DeviceKeys>>;
        master_keys: Record<string, CrossSigningKey>;
        self_signing_keys: Record<string, CrossSigningKey>;
      } = { device_keys: {}, master_keys: {}, self_signing_keys: {} };
      const ask: Record<string, string[]> = {};
      for (const [userId, deviceIds] of Object.entries(deviceKeys)) {
        const list = await lists.fresh(userId);
        if (!list) {
          ask[userId] = deviceIds;
          continue;
        }
        const byDevice: Record<string, DeviceKeys> = {};
        for (const [id, dev] of Object.entries(list.devices)) {
          if (!dev.keys || (deviceIds.length > 0 && !deviceIds.includes(id))) continue;
          byDevice[id] = dev.displayName !== undefined ? { ...dev.keys, unsigned: { device_display_name: dev.displayName } } : dev.keys;
        }
        answer.device_keys[userId] = byDevice;
        if (list.masterKey) answer.master_keys[userId] = list.masterKey;
        if (list.selfSigningKey) answer.self_signing_keys[userId] = list.selfSigningKey;
      }
      if (Object.keys(ask).length === 0) return answer;
      const remote = await fallback.queryKeys(server, ask, timeoutMs);
      for (const userId of Object.keys(ask)) {
        void lists
          .sharesRoomWithLocal(userId)
          .then((tracked) => (tracked ? lists.resync(userId) : false))
          .catch(() => undefined);
      }
      // The server did not answer: report it as a failure unless the cache answered for someone.
      if (!remote) return Object.keys(answer.device_keys).length > 0 ? answer : undefined;
      return {
        device_keys: { ...answer.device_keys, ...(remote.device_keys ?? {}) },
        master_keys: { ...answer.master_keys, ...(remote.master_keys ?? {}) },
        self_signing_keys: { ...answer.self_signing_keys, ...(remote.self_signing_keys ?? {}) },
      };
    },
    claimKeys: (server, oneTimeKeys, timeoutMs) => fallback.claimKeys(server, oneTimeKeys, timeoutMs),
  };
}

/** A device as cached: its keys only if they are the device's own (user and device ID match). */
function deviceEntry(keys: unknown, displayName: unknown, userId: string, deviceId: string): RemoteDevice {
  const out: RemoteDevice = {};
  if (isObject(keys) && keys.user_id === userId && keys.device_id === deviceId && isObject(keys.keys)) {
    const { unsigned: _u, ...rest } = keys;
    out.keys = rest as unknown as DeviceKeys;
  }
  if (typeof displayName === 'string') out.displayName = displayName;
  return out;
}

function crossSigningKey(v: unknown, userId: string, usage: string): CrossSigningKey | undefined {
  if (!isObject(v) || v.user_id !== userId || !Array.isArray(v.usage) || !v.usage.includes(usage) || !isObject(v.keys)) return undefined;
  return v as unknown as CrossSigningKey;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSafeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
