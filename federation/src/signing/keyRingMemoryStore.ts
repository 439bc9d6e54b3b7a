// In-memory RemoteKeyStore: the reference behaviour of the port, for tests and
// store-less tools. Records are copied in and out so callers cannot alias them.
import type { RemoteKeyStore, StoredServerKeys } from '../ports.js';

export class MemoryRemoteKeyStore implements RemoteKeyStore {
  readonly records = new Map<string, StoredServerKeys>();

  async load(serverName: string): Promise<StoredServerKeys | undefined> {
    const r = this.records.get(serverName);
    return r === undefined ? undefined : structuredClone(r);
  }

  async save(record: StoredServerKeys): Promise<void> {
    this.records.set(record.serverName, structuredClone(record));
  }
}
