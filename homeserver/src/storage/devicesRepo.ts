// Devices and their access tokens. A token is stored only as its SHA-256 hash;
// the device record names the hash of its current token so that deleting the
// device can delete the token in the same batch.
import type { BatchOp, Database } from './db.js';
import { key, prefixRange } from './keys.js';

export interface DeviceRecord {
  deviceId: string;
  displayName?: string;
  /** Hex SHA-256 of the device's current access token; absent when the device has none. */
  tokenHash?: string;
  createdTs: number;
  lastSeenTs?: number;
  lastSeenIp?: string;
  /** User-Agent of the last authenticated request (recorded at most once a minute; admin whois). */
  lastSeenUserAgent?: string;
}

/** What an access token stands for. */
export interface TokenSession {
  userId: string;
  deviceId: string;
}

export class DevicesRepo {
  constructor(private readonly db: Database) {}

  getDevice(userId: string, deviceId: string): Promise<DeviceRecord | undefined> {
    return this.db.get<DeviceRecord>('userdevice_device', key(userId, deviceId));
  }

  /** Every device of a user, ordered by device ID. */
  async listDevices(userId: string): Promise<DeviceRecord[]> {
    // "user·" cannot prefix another user's keys: the separator byte never occurs in an ID.
    const rows = await this.db.range<DeviceRecord>('userdevice_device', prefixRange(key(userId)));
    return rows.map(([, v]) => v);
  }

  putDevice(userId: string, device: DeviceRecord): BatchOp {
    return this.db.put('userdevice_device', key(userId, device.deviceId), device);
  }

  delDevice(userId: string, deviceId: string): BatchOp {
    return this.db.del('userdevice_device', key(userId, deviceId));
  }

  getSession(tokenHash: Buffer): Promise<TokenSession | undefined> {
    return this.db.get<TokenSession>('tokenhash_session', tokenHash);
  }

  putSession(tokenHash: Buffer, session: TokenSession): BatchOp {
    return this.db.put('tokenhash_session', tokenHash, session);
  }

  delSession(tokenHash: Buffer): BatchOp {
    return this.db.del('tokenhash_session', tokenHash);
  }

  write(ops: BatchOp[]): Promise<void> {
    return this.db.write(ops);
  }
}
