// The key ring's durable cache of remote servers' keys (federation RemoteKeyStore).
// Layout: schema.ts servername_keys. One record per server, replaced whole on save.
import type { RemoteKeyStore, StoredServerKeys } from '@parley/federation/ports';
import { strKey, type Database } from './db.js';

export class RemoteKeysRepo implements RemoteKeyStore {
  constructor(private readonly db: Database) {}

  load(serverName: string): Promise<StoredServerKeys | undefined> {
    return this.db.get<StoredServerKeys>('servername_keys', strKey(serverName));
  }

  async save(record: StoredServerKeys): Promise<void> {
    await this.db.write([this.db.put('servername_keys', strKey(record.serverName), record)]);
  }
}
