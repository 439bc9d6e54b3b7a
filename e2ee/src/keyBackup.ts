// Server-side key backups: versions created by clients, each holding encrypted
// Megolm session keys per room and session. Only the newest version accepts keys.
// Spec: modules/end_to_end_encryption.md "Server-side key backups"; key_backup.yaml.
import { invalidParam, notFound, wrongRoomKeysVersion } from './errors.js';
import { shouldReplace } from './backupRules.js';
import type { KeyedLock } from './keyedLock.js';
import type { E2eeStore } from './ports.js';
import type { BackupVersion, JsonMap, KeyBackupData } from './types.js';

export interface BackupInfo {
  algorithm: string;
  auth_data: JsonMap;
  count: number;
  etag: string;
  version: string;
}

export interface BackupUpdate {
  etag: string;
  count: number;
}

export type RoomsKeys = Record<string, { sessions: Record<string, KeyBackupData> }>;

const VERSION = /^[1-9][0-9]{0,14}$/;

export class KeyBackupService {
  constructor(
    private readonly store: E2eeStore,
    /** Per-user lock over all of a user's backup data. */
    private readonly lock: KeyedLock,
  ) {}

  async createVersion(userId: string, algorithm: string, authData: JsonMap): Promise<string> {
    return this.lock.run(lockKey(userId), async () => {
      // Version numbers are never reused, so a stale client cannot write into a newer backup by accident.
      const version = (await this.store.lastBackupVersion(userId)) + 1;
      await this.store.putBackup(userId, { version, algorithm, authData, etag: 0, count: 0 });
      return String(version);
    });
  }

  /** The given version, or the newest one when `version` is undefined. */
  async getVersion(userId: string, version?: string): Promise<BackupInfo> {
    if (version === undefined) {
      const latest = await this.store.latestBackup(userId);
      if (!latest) throw notFound('No current backup version');
      return info(latest);
    }
    return info(await this.existing(userId, version));
  }

  /** Only auth_data may change; the algorithm must stay. */
  async updateVersion(userId: string, version: string, body: { algorithm: string; auth_data: JsonMap; version?: string }): Promise<void> {
    if (body.version !== undefined && body.version !== version) throw invalidParam('version in body does not match the version in the path');
    await this.lock.run(lockKey(userId), async () => {
      const v = await this.existing(userId, version);
      if (v.algorithm !== body.algorithm) throw invalidParam('Algorithm does not match');
      await this.store.putBackup(userId, { ...v, authData: body.auth_data });
    });
  }

  /** Deleting a version that was already deleted succeeds (key_backup.yaml). */
  async deleteVersion(userId: string, version: string): Promise<void> {
    await this.lock.run(lockKey(userId), async () => {
      const n = parseVersion(version);
      const v = n === undefined ? undefined : await this.store.backup(userId, n);
      if (!v) throw notFound('Unknown backup version');
      if (!v.deleted) await this.store.deleteBackup(userId, n!);
    });
  }

  /** Keys of a version: all of them, one room's, or one session's (404 when that session has none). */
  async getKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<unknown> {
    const v = await this.existing(userId, version);
    const rows = await this.store.backupKeys(userId, v.version, roomId, sessionId);
    if (sessionId !== undefined) {
      if (rows.length === 0) throw notFound('No room_keys found');
      return rows[0].data;
    }
    if (roomId !== undefined) return { sessions: Object.fromEntries(rows.map((r) => [r.sessionId, r.data])) };
    const rooms: RoomsKeys = {};
    for (const r of rows) (rooms[r.roomId] ??= { sessions: {} }).sessions[r.sessionId] = r.data;
    return { rooms };
  }

  /** Store keys into the current version; each session keeps the better of the stored and uploaded copies. */
  async putKeys(userId: string, version: string, rooms: RoomsKeys): Promise<BackupUpdate> {
    return this.lock.run(lockKey(userId), async () => {
      const current = await this.store.latestBackup(userId);
      if (!current) throw notFound('Unknown backup version');
      if (String(current.version) !== version) throw wrongRoomKeysVersion(String(current.version));
      const puts: Array<{ roomId: string; sessionId: string; data: KeyBackupData }> = [];
      let added = 0;
      for (const [roomId, { sessions }] of Object.entries(rooms)) {
        const entries = Object.entries(sessions);
        if (entries.length === 0) continue;
        const stored = new Map((await this.store.backupKeys(userId, current.version, roomId)).map((r) => [r.sessionId, r.data]));
        for (const [sessionId, data] of entries) {
          const old = stored.get(sessionId);
          if (!shouldReplace(old, data)) continue;
          if (!old) added++;
          stored.set(sessionId, data);
          puts.push({ roomId, sessionId, data });
        }
      }
      if (puts.length === 0) return update(current);
      const next: BackupVersion = { ...current, etag: current.etag + 1, count: current.count + added };
      await this.store.writeBackupKeys(userId, next, puts, []);
      return update(next);
    });
  }

  async deleteKeys(userId: string, version: string, roomId?: string, sessionId?: string): Promise<BackupUpdate> {
    return this.lock.run(lockKey(userId), async () => {
      const v = await this.existing(userId, version);
      const rows = await this.store.backupKeys(userId, v.version, roomId, sessionId);
      // As Synapse: the etag moves on every delete, so other clients re-check the backup.
      const next: BackupVersion = { ...v, etag: v.etag + 1, count: Math.max(0, v.count - rows.length) };
      await this.store.writeBackupKeys(userId, next, [], rows);
      return update(next);
    });
  }

  /** A version that exists and is not deleted. */
  private async existing(userId: string, version: string): Promise<BackupVersion> {
    const n = parseVersion(version);
    const v = n === undefined ? undefined : await this.store.backup(userId, n);
    if (!v || v.deleted) throw notFound('Unknown backup version');
    return v;
  }
}

const lockKey = (userId: string) => `backup\u0000${userId}`;

function parseVersion(version: string): number | undefined {
  return VERSION.test(version) ? Number(version) : undefined;
}

function info(v: BackupVersion): BackupInfo {
  return { algorithm: v.algorithm, auth_data: v.authData, count: v.count, etag: String(v.etag), version: String(v.version) };
}

function update(v: BackupVersion): BackupUpdate {
  return { etag: String(v.etag), count: v.count };
}
