// UserQueryPort over the e2ee key server and the accounts' devices: our users' device lists
// with keys (user/devices), their keys (user/keys/query) and one-time keys (user/keys/claim),
// and OpenID tokens. Questions about other servers' users are not ours to answer: they are
// left out (Synapse does the same) or, for user/devices, refused.
// Spec: server-server-api.md "Device Management", "End-to-End Encryption", "OpenID".
import { fedInvalidParam, fedNotFound } from '@parley/federation/api/errors';
import { isValidUserId, serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { UserQueryPort } from '@parley/federation/ports';
import type { DeviceKeysService } from '@parley/e2ee';

export interface UserQueryDeps {
  serverName: string;
  keys: Pick<DeviceKeysService, 'query' | 'claim'>;
  /** The local user's devices (accounts). */
  devices(userId: string): Promise<Array<{ deviceId: string; displayName?: string }>>;
  /** E2eeRepo.deviceListPosition: the `stream_id` of the user's device list. */
  streamId(userId: string): Promise<number>;
  openId: { userOf(token: string): Promise<string | undefined> };
}

/**
 * Signatures a remote server may see on our users' keys: the owner's own (as for any user
 * but the owner); no local user is asking, so this requester matches no one.
 */
const NO_REQUESTER = '';

export class UserQueryAdapter implements UserQueryPort {
  constructor(private readonly d: UserQueryDeps) {}

  async devices(userId: string): Promise<JsonObject> {
    if (!isValidUserId(userId)) throw fedInvalidParam('Invalid user ID');
    if (serverNameOf(userId) !== this.d.serverName) throw fedNotFound('The user is not on this server');
    // The position first: a change after it is announced by an EDU with a later stream_id.
    const streamId = await this.d.streamId(userId);
    const [devices, keys] = await Promise.all([this.d.devices(userId), this.d.keys.query(NO_REQUESTER, { [userId]: [] })]);
    const byId = keys.device_keys[userId] ?? {};
    const out: JsonObject = {
      user_id: userId,
      stream_id: streamId,
      // user_devices.yaml: keys are required, so devices without identity keys are left out.
      devices: devices
        .filter((d) => byId[d.deviceId] !== undefined)
        .map((d) => {
          const { unsigned: _u, ...k } = byId[d.deviceId];
          return { device_id: d.deviceId, keys: k, ...(d.displayName !== undefined ? { device_display_name: d.displayName } : {}) } as unknown as JsonObject;
        }),
    };
    if (keys.master_keys[userId]) out.master_key = keys.master_keys[userId] as unknown as JsonObject;
    if (keys.self_signing_keys[userId]) out.self_signing_key = keys.self_signing_keys[userId] as unknown as JsonObject;
    return out;
  }

  async queryKeys(deviceKeys: Record<string, string[]>): Promise<JsonObject> {
    const local = Object.fromEntries(Object.entries(deviceKeys).filter(([u]) => this.isLocal(u)));
    const r = await this.d.keys.query(NO_REQUESTER, local);
    return { device_keys: r.device_keys, master_keys: r.master_keys, self_signing_keys: r.self_signing_keys } as unknown as JsonObject;
  }

  async claimKeys(oneTimeKeys: Record<string, Record<string, string>>): Promise<JsonObject> {
    const local = Object.fromEntries(Object.entries(oneTimeKeys).filter(([u]) => this.isLocal(u)));
    const r = await this.d.keys.claim(local);
    return { one_time_keys: r.one_time_keys } as unknown as JsonObject;
  }

  openIdUser(accessToken: string): Promise<string | undefined> {
    return this.d.openId.userOf(accessToken);
  }

  private isLocal(userId: string): boolean {
    return isValidUserId(userId) && serverNameOf(userId) === this.d.serverName;
  }
}
