// Devices and the access tokens bound to them. Every device has at most one
// token; logging in with an existing device ID replaces that device's token.
// Spec: client-server-api/_index.md "Relationship between access tokens and devices",
// modules/device_management.md.
//
// Mutations of one user's devices are serialised with a per-user lock that the
// account service shares (`withUserLock`); the `plan…` methods expect the caller
// to hold it, build the batch operations, and let the caller add its own
// operations to the same atomic batch.
import type { Logger } from 'pino';
import type { Authenticator } from '../http/app.js';
import { invalidParam, notFound } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import type { BatchOp } from '../storage/db.js';
import type { DeviceRecord, DevicesRepo } from '../storage/devicesRepo.js';
import type { UsersRepo } from '../storage/usersRepo.js';
import { KeyedLock } from '../util/keyedLock.js';
import type { AccountPorts } from './ports.js';
import { TokenCache } from './tokenCache.js';
import { hashToken, isValidDeviceId, newAccessToken, newDeviceId } from './tokens.js';

/** Last-seen records are written at most this often per device (Synapse batches them similarly). */
const SEEN_INTERVAL_MS = 60_000;

/** Longest device display name (as Synapse). */
export const MAX_DEVICE_DISPLAY_NAME = 100;
/**
 * Sessions kept in memory (a few hundred bytes each). Above the number of clients active at
 * once, or every request misses: with 10,000 users long-polling and 10,000 entries, each
 * sync evicted the next one's session and read it back from storage.
 */
const TOKEN_CACHE = 50_000;

export interface NewSessionOptions {
  /** Reuse (or create) this device; generated when absent. */
  deviceId?: string;
  /** For a new device only. */
  displayName?: string;
  ip?: string;
}

export interface PlannedSession {
  ops: BatchOp[];
  accessToken: string;
  deviceId: string;
  /** Token hashes replaced by this session (evicted after the write). */
  replaced: string[];
}

export interface PlannedDeletion {
  ops: BatchOp[];
  userId: string;
  deviceIds: string[];
  tokenHashes: string[];
}

/** The per-user critical section shared by the account, device and profile services. */
export interface UserLock {
  withUserLock<T>(userId: string, fn: () => Promise<T>): Promise<T>;
}

export class DeviceManager implements Authenticator, UserLock {
  private readonly locks = new KeyedLock();
  private readonly cache: TokenCache;
  /** When each device's last-seen record was last written (user · device → ms). */
  private readonly lastSeenWrite = new Map<string, number>();
  /** Last-seen writes still in flight, per user: device lists read after them (whois right after a request). */
  private readonly seenInFlight = new Map<string, Promise<void>>();
  /** Raw access token → its hash, for tokens whose requester is cached (bounded as the token cache). */
  private readonly hashOfRaw = new Map<string, string>();
  /** When a requester object last went through noteSeen (dropped with the object). */
  private readonly seenNoted = new WeakMap<Requester, number>();
  private readonly cacheSize: number;

  constructor(
    private readonly devices: DevicesRepo,
    private readonly users: UsersRepo,
    private readonly ports: AccountPorts,
    private readonly logger: Logger,
    opts: { cacheSize?: number } = {},
  ) {
    this.cacheSize = opts.cacheSize ?? TOKEN_CACHE;
    this.cache = new TokenCache(this.cacheSize);
  }

  /** Run `fn` while no other account or device change of this user runs. */
  withUserLock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(userId, fn);
  }

  // ── authentication ────────────────────────────────────────────────────────

  async authenticate(accessToken: string): Promise<Requester | undefined> {
    // A repeated token (every /sync of a client) skips the hash: the raw token names its
    // hash, and the hash's entry in the token cache is what revocation removes.
    const known = this.hashOfRaw.get(accessToken);
    if (known !== undefined) {
      const hit = this.cache.get(known);
      if (hit) return hit;
      this.hashOfRaw.delete(accessToken);
    }
    const hash = hashToken(accessToken);
    const hex = hash.toString('hex');
    const cached = this.cache.get(hex);
    if (cached) {
      this.rememberRaw(accessToken, hex);
      return cached;
    }
    const generation = this.cache.generation;
    const session = await this.devices.getSession(hash);
    if (!session) return undefined;
    // Deactivation deletes every token, but a login racing with it could leave one behind.
    const user = await this.users.getUser(session.userId);
    if (!user || user.deactivated) return undefined;
    const requester: Requester = { userId: session.userId, deviceId: session.deviceId, isAdmin: user.admin };
    this.cache.set(hex, requester, generation);
    if (this.cache.generation === generation) this.rememberRaw(accessToken, hex);
    return requester;
  }

  private rememberRaw(accessToken: string, hex: string): void {
    this.hashOfRaw.set(accessToken, hex);
    if (this.hashOfRaw.size > this.cacheSize) this.hashOfRaw.delete(this.hashOfRaw.keys().next().value!);
  }

  /**
   * Record where a device was last seen (admin whois, device lists' last_seen_*). Cheap: at
   * most one write per device per SEEN_INTERVAL_MS, in the background; a failure is only logged.
   */
  noteSeen(requester: Requester, seen: { ip: string; userAgent?: string }): void {
    const now = Date.now();
    // The cached requester object is the same on every request of a token: checking it
    // first spares building and hashing the device key on every /sync.
    const noted = this.seenNoted.get(requester);
    if (noted !== undefined && now - noted < SEEN_INTERVAL_MS) return;
    this.seenNoted.set(requester, now);
    const k = `${requester.userId}\u0000${requester.deviceId}`;
    const last = this.lastSeenWrite.get(k);
    if (last !== undefined && now - last < SEEN_INTERVAL_MS) return;
    this.lastSeenWrite.delete(k);
    this.lastSeenWrite.set(k, now);
    if (this.lastSeenWrite.size > 50_000) this.lastSeenWrite.delete(this.lastSeenWrite.keys().next().value!);
    const written = this.withUserLock(requester.userId, async () => {
      // Under the lock, so a device deleted meanwhile is not written back.
      const d = await this.devices.getDevice(requester.userId, requester.deviceId);
      if (!d) return;
      const next: DeviceRecord = { ...d, lastSeenTs: now, lastSeenIp: seen.ip };
      if (seen.userAgent !== undefined) next.lastSeenUserAgent = seen.userAgent.slice(0, 512);
      // Grouped with the writes made meanwhile (Database.write): a crowd coming online is a few batches.
      await this.devices.write([this.devices.putDevice(requester.userId, next)]);
    }).catch((err: unknown) => this.logger.warn({ err, userId: requester.userId }, 'recording last seen failed'));
    this.seenInFlight.set(requester.userId, written);
    void written.then(() => {
      if (this.seenInFlight.get(requester.userId) === written) this.seenInFlight.delete(requester.userId);
    });
  }

  /** Drop cached requesters of a user, e.g. after their admin flag changed. */
  forgetCachedUser(userId: string): void {
    this.cache.evictUser(userId);
  }

  // ── planning (caller holds the user lock) ─────────────────────────────────

  /** A new access token for a new or existing device, as batch operations. */
  async planSession(userId: string, opts: NewSessionOptions): Promise<PlannedSession> {
    if (opts.deviceId !== undefined && !isValidDeviceId(opts.deviceId)) throw invalidParam('Invalid device_id');
    checkDisplayName(opts.displayName);
    const existing = opts.deviceId !== undefined ? await this.devices.getDevice(userId, opts.deviceId) : undefined;
    const deviceId = opts.deviceId ?? (await this.freshDeviceId(userId));
    const accessToken = newAccessToken();
    const hash = hashToken(accessToken);
    const now = Date.now();
    const device: DeviceRecord = existing
      ? { ...existing, tokenHash: hash.toString('hex'), lastSeenTs: now, lastSeenIp: opts.ip ?? existing.lastSeenIp }
      : {
          deviceId,
          ...(opts.displayName !== undefined ? { displayName: opts.displayName } : {}),
          tokenHash: hash.toString('hex'),
          createdTs: now,
          lastSeenTs: now,
          ...(opts.ip ? { lastSeenIp: opts.ip } : {}),
        };
    const ops = [this.devices.putDevice(userId, device), this.devices.putSession(hash, { userId, deviceId })];
    const replaced: string[] = [];
    if (existing?.tokenHash) {
      ops.push(this.devices.delSession(Buffer.from(existing.tokenHash, 'hex')));
      replaced.push(existing.tokenHash);
    }
    return { ops, accessToken, deviceId, replaced };
  }

  /** Deletion of the given devices (unknown ones are skipped) with their tokens. */
  async planDeletion(userId: string, deviceIds: string[]): Promise<PlannedDeletion> {
    const unique = [...new Set(deviceIds)];
    const found = await Promise.all(unique.map((id) => this.devices.getDevice(userId, id)));
    return this.deletionOf(userId, found.filter((d): d is DeviceRecord => d !== undefined));
  }

  /** Deletion of all of a user's devices, optionally but one. */
  async planDeleteAll(userId: string, exceptDeviceId?: string): Promise<PlannedDeletion> {
    const all = await this.devices.listDevices(userId);
    return this.deletionOf(userId, all.filter((d) => d.deviceId !== exceptDeviceId));
  }

  /** After a planned session was written: forget the tokens it replaced. */
  sessionWritten(plan: PlannedSession): void {
    if (plan.replaced.length) this.cache.evict(plan.replaced);
  }

  /**
   * Tell the device-events port that a session created or refreshed a device, so users who
   * share a room hear of it at login (as Synapse does), not only when it uploads keys.
   */
  async announceDevice(userId: string, deviceId: string): Promise<void> {
    try {
      await this.ports.deviceEvents.deviceUpdated(userId, deviceId);
    } catch (err) {
      this.logger.error({ err, userId }, 'device update hook failed');
    }
  }

  /** After a planned deletion was written: forget its tokens and tell the device-events port. */
  async deletionWritten(plan: PlannedDeletion): Promise<void> {
    this.cache.evict(plan.tokenHashes);
    if (plan.deviceIds.length === 0) return;
    try {
      await this.ports.deviceEvents.devicesDeleted(plan.userId, plan.deviceIds);
    } catch (err) {
      this.logger.error({ err, userId: plan.userId }, 'device deletion hook failed');
    }
  }

  // ── device management API ─────────────────────────────────────────────────

  listDevices(userId: string): Promise<DeviceRecord[]> {
    return this.devices.listDevices(userId);
  }

  /**
   * The user's devices with every last-seen record noted so far (admin whois, GET /devices).
   * Not for callers holding the user lock: the pending write waits for it.
   */
  async listDevicesSeen(userId: string): Promise<DeviceRecord[]> {
    // Writes of one user run in order under their lock: waiting for the latest covers the earlier ones.
    await this.seenInFlight.get(userId);
    return this.devices.listDevices(userId);
  }

  async getDevice(userId: string, deviceId: string): Promise<DeviceRecord> {
    const d = await this.devices.getDevice(userId, deviceId);
    if (!d) throw notFound('Device not found');
    return d;
  }

  async renameDevice(userId: string, deviceId: string, displayName: string | undefined): Promise<void> {
    checkDisplayName(displayName);
    await this.withUserLock(userId, async () => {
      const d = await this.getDevice(userId, deviceId);
      if (displayName === undefined) return;
      await this.devices.write([this.devices.putDevice(userId, { ...d, displayName })]);
    });
    if (displayName === undefined) return;
    try {
      await this.ports.deviceEvents.deviceUpdated(userId, deviceId);
    } catch (err) {
      this.logger.error({ err, userId }, 'device update hook failed');
    }
  }

  /** Delete devices and their tokens; unknown device IDs are ignored (the spec's "removed previously"). */
  async deleteDevices(userId: string, deviceIds: string[]): Promise<void> {
    const plan = await this.withUserLock(userId, async () => {
      const p = await this.planDeletion(userId, deviceIds);
      await this.devices.write(p.ops);
      return p;
    });
    await this.deletionWritten(plan);
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  private deletionOf(userId: string, devices: DeviceRecord[]): PlannedDeletion {
    const ops: BatchOp[] = [];
    const tokenHashes: string[] = [];
    for (const d of devices) {
      ops.push(this.devices.delDevice(userId, d.deviceId));
      if (d.tokenHash) {
        ops.push(this.devices.delSession(Buffer.from(d.tokenHash, 'hex')));
        tokenHashes.push(d.tokenHash);
      }
    }
    return { ops, userId, deviceIds: devices.map((d) => d.deviceId), tokenHashes };
  }

  private async freshDeviceId(userId: string): Promise<string> {
    for (;;) {
      const id = newDeviceId();
      if (!(await this.devices.getDevice(userId, id))) return id;
    }
  }
}

function checkDisplayName(name: string | undefined): void {
  if (name !== undefined && name.length > MAX_DEVICE_DISPLAY_NAME) {
    throw invalidParam(`Device display name is too long (max ${MAX_DEVICE_DISPLAY_NAME})`);
  }
}
