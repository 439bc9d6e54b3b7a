// What other servers were last told about each local user's devices and cross-signing
// keys, so the next m.device_list_update carries the right prev_id (also after a restart)
// and only what changed is sent. Layout: schema.ts userid_sentdevicelist, and meta_value
// 'federation_devicelist_outbox' (the startup replay cursor, a stream position).
import { strKey, type Database } from './db.js';

const CURSOR_KEY = Buffer.from('federation_devicelist_outbox');

export interface SentDeviceList {
  /** stream_id of the last m.device_list_update sent for the user (0: none yet). */
  streamId: number;
  /** device ID → digest of what was announced (keys and display name). */
  devices: Record<string, string>;
  /** Digest of the announced master and self-signing keys. */
  signing?: string;
}

export class DeviceListOutboxRepo {
  constructor(private readonly db: Database) {}

  get(userId: string): Promise<SentDeviceList | undefined> {
    return this.db.get<SentDeviceList>('userid_sentdevicelist', strKey(userId));
  }

  async put(userId: string, sent: SentDeviceList): Promise<void> {
    await this.db.write([this.db.put('userid_sentdevicelist', strKey(userId), sent)]);
  }

  /** Stream position up to which every device-list change was announced (undefined: never recorded). */
  announcedUpTo(): Promise<number | undefined> {
    return this.db.get<number>('meta_value', CURSOR_KEY);
  }

  async setAnnouncedUpTo(pos: number): Promise<void> {
    await this.db.write([this.db.put('meta_value', CURSOR_KEY, pos)]);
  }
}
