// Device identity keys, one-time keys and fallback keys: upload, query, claim.
// Spec: modules/end_to_end_encryption.md "Key Distribution", "One-time and fallback
// keys", "Uploading keys"; keys.yaml.
import { isValidUserId, serverNameOf } from '@parley/federation/core/ids';
import { conflict, forbidden, invalidParam, invalidSignature } from './errors.js';
import type { CrossSigningService } from './crossSigning.js';
import type { DeviceLists } from './deviceLists.js';
import type { KeyedLock } from './keyedLock.js';
import type { ClaimRequest, DeviceDirectory, E2eeStore, RemoteKeysPort, StreamPositions } from './ports.js';
import { deviceSigningKey, sameObject, sameSignedContent, verifySignature, withSignatures } from './signatures.js';
import type { AlgorithmKey, CrossSigningKey, DeviceKeys, FallbackKey, JsonMap, KeyValue } from './types.js';

/** Synapse always reports this count, even at zero: some clients only replenish when they see it. */
const SIGNED_CURVE25519 = 'signed_curve25519';
const DEFAULT_REMOTE_TIMEOUT_MS = 10_000;

export interface KeyUploadBody {
  device_keys?: DeviceKeys;
  one_time_keys?: Record<string, KeyValue>;
  fallback_keys?: Record<string, KeyValue>;
}

export interface KeysQueryResult {
  failures: Record<string, JsonMap>;
  device_keys: Record<string, Record<string, DeviceKeys>>;
  master_keys: Record<string, CrossSigningKey>;
  self_signing_keys: Record<string, CrossSigningKey>;
  user_signing_keys: Record<string, CrossSigningKey>;
}

export interface KeysClaimResult {
  failures: Record<string, JsonMap>;
  one_time_keys: Record<string, Record<string, Record<string, KeyValue>>>;
}

export interface DeviceKeysDeps {
  store: E2eeStore;
  devices: DeviceDirectory;
  deviceLists: DeviceLists;
  crossSigning: CrossSigningService;
  stream: StreamPositions;
  remote: RemoteKeysPort;
  /** Per-user lock over all of a user's key data. */
  lock: KeyedLock;
  serverName: string;
}

export class DeviceKeysService {
  constructor(private readonly d: DeviceKeysDeps) {}

  // ── /keys/upload ──────────────────────────────────────────────────────────

  async upload(userId: string, deviceId: string, body: KeyUploadBody): Promise<{ one_time_key_counts: Record<string, number> }> {
    if (body.device_keys) checkDeviceKeys(body.device_keys, userId, deviceId);
    await this.d.lock.run(userId, async () => {
      const { store } = this.d;
      const existing = (await store.deviceKeys(userId, [deviceId])).get(deviceId);
      let newDeviceKeys: DeviceKeys | undefined;
      if (body.device_keys) {
        // Identity keys never change once published: other devices pin them.
        if (!existing) newDeviceKeys = body.device_keys;
        else if (!sameSignedContent(existing, body.device_keys)) {
          throw invalidParam('This device already has different identity keys; they cannot be replaced');
        }
      }
      const identity = newDeviceKeys ?? existing;
      const signingKey = identity ? deviceSigningKey(identity) : undefined;
      const otks = parseKeys(body.one_time_keys ?? {}, 'one_time_keys');
      const fallbacks = parseKeys(body.fallback_keys ?? {}, 'fallback_keys');
      for (const k of [...otks, ...fallbacks]) checkKeySignature(k, userId, deviceId, signingKey);

      const oneTimeKeys = await this.newOneTimeKeys(userId, deviceId, otks);
      const fallbackKeys = await this.newFallbackKeys(userId, deviceId, fallbacks);
      if (!newDeviceKeys && oneTimeKeys.length === 0 && fallbackKeys.length === 0) return;
      if (newDeviceKeys) {
        const keys = newDeviceKeys;
        await this.d.deviceLists.change(userId, (pos) =>
          store.writeKeyUpload(userId, deviceId, { deviceKeys: keys, oneTimeKeys, otkSeq: pos, fallbackKeys, changePos: pos }),
        );
      } else {
        // One-time keys are handed out in upload order: a stream position orders uploads.
        await this.d.stream.run((pos) => store.writeKeyUpload(userId, deviceId, { oneTimeKeys, otkSeq: pos, fallbackKeys }));
      }
    });
    return { one_time_key_counts: await this.oneTimeKeyCounts(userId, deviceId) };
  }

  /** One-time keys not stored yet; a key ID already stored with other content is refused. */
  private async newOneTimeKeys(userId: string, deviceId: string, keys: AlgorithmKey[]): Promise<AlgorithmKey[]> {
    if (keys.length === 0) return [];
    const stored = await this.d.store.oneTimeKeys(userId, deviceId, keys.map((k) => `${k.algorithm}:${k.keyId}`));
    const fresh: AlgorithmKey[] = [];
    for (const k of keys) {
      const old = stored.get(`${k.algorithm}:${k.keyId}`);
      if (old === undefined) fresh.push(k);
      else if (!sameKey(old, k.key)) throw conflict(`One-time key ${k.algorithm}:${k.keyId} already exists with different content`);
    }
    return fresh;
  }

  /** Fallback keys that replace the stored one of their algorithm (re-uploading the same key keeps its used flag). */
  private async newFallbackKeys(userId: string, deviceId: string, keys: AlgorithmKey[]): Promise<FallbackKey[]> {
    if (keys.length === 0) return [];
    const algorithms = new Set<string>();
    for (const k of keys) {
      // keys.yaml: at most one fallback key per algorithm.
      if (algorithms.has(k.algorithm)) throw invalidParam(`More than one fallback key for algorithm ${k.algorithm}`);
      algorithms.add(k.algorithm);
    }
    const stored = await this.d.store.fallbackKeys(userId, deviceId);
    return keys
      .filter((k) => {
        const old = stored.get(k.algorithm);
        return !(old && old.keyId === k.keyId && sameKey(old.key, k.key));
      })
      .map((k) => ({ ...k, used: false }));
  }

  // ── /keys/query ───────────────────────────────────────────────────────────

  async query(requester: string, wanted: Record<string, string[]>, timeoutMs = DEFAULT_REMOTE_TIMEOUT_MS): Promise<KeysQueryResult> {
    const result: KeysQueryResult = { failures: {}, device_keys: {}, master_keys: {}, self_signing_keys: {}, user_signing_keys: {} };
    const remote = new Map<string, Record<string, string[]>>();
    for (const [userId, deviceIds] of Object.entries(wanted)) {
      if (!isValidUserId(userId)) throw invalidParam(`Invalid user ID ${userId}`);
      const server = serverNameOf(userId)!;
      if (server !== this.d.serverName) {
        (remote.get(server) ?? remote.set(server, {}).get(server)!)[userId] = deviceIds;
        continue;
      }
      result.device_keys[userId] = await this.localDeviceKeys(requester, userId, deviceIds);
      const cs = await this.d.crossSigning.keysFor(requester, userId);
      if (cs.master) result.master_keys[userId] = cs.master;
      if (cs.self_signing) result.self_signing_keys[userId] = cs.self_signing;
      if (cs.user_signing) result.user_signing_keys[userId] = cs.user_signing;
    }
    await Promise.all(
      [...remote].map(async ([server, users]) => {
        const r = await this.d.remote.queryKeys(server, users, timeoutMs).catch(() => undefined);
        if (!r) {
          result.failures[server] = {};
          return;
        }
        for (const u of Object.keys(users)) {
          if (serverNameOf(u) !== server) continue;
          if (r.device_keys?.[u]) result.device_keys[u] = r.device_keys[u];
          if (r.master_keys?.[u]) result.master_keys[u] = r.master_keys[u];
          if (r.self_signing_keys?.[u]) result.self_signing_keys[u] = r.self_signing_keys[u];
        }
      }),
    );
    return result;
  }

  /** A local user's device keys with the signatures the requester may see and the device display names. */
  private async localDeviceKeys(requester: string, userId: string, deviceIds: string[]): Promise<Record<string, DeviceKeys>> {
    const devices = new Map((await this.d.devices.devices(userId)).map((d) => [d.deviceId, d]));
    const ids = deviceIds.length > 0 ? deviceIds.filter((id) => devices.has(id)) : [...devices.keys()];
    if (ids.length === 0) return {};
    const [keys, sigs] = await Promise.all([this.d.store.deviceKeys(userId, ids), this.d.store.signaturesOn(userId)]);
    const out: Record<string, DeviceKeys> = {};
    for (const [deviceId, k] of keys) {
      // Spec "Key and signature security": a user's signatures on their own devices are visible to all.
      const visible = sigs.filter((s) => s.targetKeyId === deviceId && (s.signerUserId === userId || s.signerUserId === requester));
      const name = devices.get(deviceId)?.displayName;
      out[deviceId] = { ...withSignatures(k, visible), ...(name !== undefined ? { unsigned: { device_display_name: name } } : {}) };
    }
    return out;
  }

  // ── /keys/claim ───────────────────────────────────────────────────────────

  async claim(wanted: Record<string, Record<string, string>>, timeoutMs = DEFAULT_REMOTE_TIMEOUT_MS): Promise<KeysClaimResult> {
    const result: KeysClaimResult = { failures: {}, one_time_keys: {} };
    const local: ClaimRequest[] = [];
    const remote = new Map<string, Record<string, Record<string, string>>>();
    for (const [userId, byDevice] of Object.entries(wanted)) {
      if (!isValidUserId(userId)) throw invalidParam(`Invalid user ID ${userId}`);
      const server = serverNameOf(userId)!;
      if (server !== this.d.serverName) (remote.get(server) ?? remote.set(server, {}).get(server)!)[userId] = byDevice;
      else for (const [deviceId, algorithm] of Object.entries(byDevice)) local.push({ userId, deviceId, algorithm });
    }
    if (local.length > 0) {
      // Each key is handed out once: claims of one user's keys never run side by side.
      const claimed = await this.d.lock.runAll(
        local.map((r) => r.userId),
        () => this.d.store.claimKeys(local),
      );
      claimed.forEach((k, i) => {
        if (!k) return;
        const { userId, deviceId } = local[i];
        ((result.one_time_keys[userId] ??= {})[deviceId] ??= {})[`${k.algorithm}:${k.keyId}`] = k.key;
      });
    }
    await Promise.all(
      [...remote].map(async ([server, users]) => {
        const r = await this.d.remote.claimKeys(server, users, timeoutMs).catch(() => undefined);
        if (!r) {
          result.failures[server] = {};
          return;
        }
        for (const [u, byDevice] of Object.entries(r.one_time_keys ?? {})) {
          if (serverNameOf(u) === server) result.one_time_keys[u] = byDevice;
        }
      }),
    );
    return result;
  }

  // ── for /sync ─────────────────────────────────────────────────────────────

  async oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>> {
    return countsForClient(await this.d.store.oneTimeKeyCounts(userId, deviceId));
  }

  async unusedFallbackKeyTypes(userId: string, deviceId: string): Promise<string[]> {
    return unusedTypes(await this.d.store.fallbackKeys(userId, deviceId));
  }

  /**
   * Both of the above at once, from memory, for a device with nothing queued for it (no
   * to-device message, no partial delivery); undefined when the store cannot tell that.
   */
  quietSyncKeys(userId: string, deviceId: string): QuietKeys | undefined {
    const q = this.d.store.quietDevice?.(userId, deviceId);
    return q && quietKeysOf(q.otkCounts, q.fallbacks);
  }

  // ── device lifecycle (from the accounts service) ──────────────────────────

  /** The devices are gone: drop their keys, queued messages and signatures, and tell their watchers. */
  async devicesDeleted(userId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.d.lock.run(userId, () =>
      this.d.deviceLists.change(userId, (pos) => this.d.store.deleteDevices(userId, deviceIds, pos)),
    );
  }

  /** A device's display name changed: /keys/query shows it, so watchers re-fetch. */
  async deviceUpdated(userId: string): Promise<void> {
    await this.d.deviceLists.change(userId, (pos) => this.d.store.writeDeviceListChange(userId, pos));
  }
}

/** Device keys must be the requester's own, for the requesting device, and signed by the device's ed25519 key. */
function checkDeviceKeys(keys: DeviceKeys, userId: string, deviceId: string): void {
  if (keys.user_id !== userId) throw forbidden('device_keys.user_id is not the user of this access token');
  if (keys.device_id !== deviceId) throw invalidParam('device_keys.device_id is not the device of this access token');
  const ed = deviceSigningKey(keys);
  if (ed === undefined) throw invalidParam(`device_keys.keys must include ed25519:${deviceId}`);
  if (!verifySignature(keys, userId, `ed25519:${deviceId}`, ed)) {
    throw invalidSignature('device_keys are not signed by the device’s ed25519 key');
  }
}

/** `<algorithm>:<key ID>` → key, split and checked. */
function parseKeys(map: Record<string, KeyValue>, field: string): AlgorithmKey[] {
  return Object.entries(map).map(([id, key]) => {
    const colon = id.indexOf(':');
    if (colon <= 0 || colon === id.length - 1) throw invalidParam(`${field}: key names must be <algorithm>:<key_id>, got ${id}`);
    return { algorithm: id.slice(0, colon), keyId: id.slice(colon + 1), key };
  });
}

/** Key objects (signed_curve25519 and the like) must carry the device's signature; plain string keys carry none. */
function checkKeySignature(k: AlgorithmKey, userId: string, deviceId: string, signingKey: string | undefined): void {
  const id = `${k.algorithm}:${k.keyId}`;
  if (typeof k.key === 'string') {
    if (k.algorithm.startsWith('signed_')) throw invalidParam(`${id} must be a signed key object`);
    return;
  }
  if (typeof k.key.key !== 'string') throw invalidParam(`${id} has no 'key'`);
  if (signingKey === undefined) throw invalidSignature(`${id} cannot be checked: the device has no identity keys yet`);
  if (!verifySignature(k.key, userId, `ed25519:${deviceId}`, signingKey)) {
    throw invalidSignature(`${id} is not signed by the device’s ed25519 key`);
  }
}

function sameKey(a: KeyValue, b: KeyValue): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return sameObject(a, b);
}

/** One-time key counts as /sync and /keys/upload give them: signed_curve25519 always present (clients read it). */
/** A quiet device's key fields, read-only: made once per state of its keys (see quietKeysOf). */
export type QuietKeys = Readonly<{ counts: Readonly<Record<string, number>>; fallbackTypes: readonly string[] }>;

/** By the store's objects, which are replaced when the keys change (E2eeStore.quietDevice). */
const quietKeys = new WeakMap<object, WeakMap<object, QuietKeys>>();

/** The fields of a quiet device's keys, derived once per state: a woken sync then allocates none. */
function quietKeysOf(otkCounts: Readonly<Record<string, number>>, fallbacks: ReadonlyMap<string, FallbackKey>): QuietKeys {
  let byFallbacks = quietKeys.get(otkCounts);
  if (!byFallbacks) quietKeys.set(otkCounts, (byFallbacks = new WeakMap()));
  let q = byFallbacks.get(fallbacks);
  if (!q) byFallbacks.set(fallbacks, (q = Object.freeze({ counts: Object.freeze(countsForClient(otkCounts)), fallbackTypes: Object.freeze(unusedTypes(fallbacks)) })));
  return q;
}

function countsForClient(stored: Readonly<Record<string, number>>): Record<string, number> {
  return { [SIGNED_CURVE25519]: 0, ...stored };
}

function unusedTypes(fallbacks: ReadonlyMap<string, FallbackKey>): string[] {
  return [...fallbacks.values()].filter((k) => !k.used).map((k) => k.algorithm);
}
