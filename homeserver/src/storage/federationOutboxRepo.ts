// How far the outgoing federation queues are known to hold every local event: the stream
// position up to which each local room event has been enqueued for its destinations.
// Layout: schema.ts meta_value 'federation_outbox' (a number).
import type { Database } from './db.js';

const CURSOR_KEY = Buffer.from('federation_outbox');

export class FederationOutboxRepo {
  constructor(private readonly db: Database) {}

  async enqueuedUpTo(): Promise<number | undefined> {
    return this.db.get<number>('meta_value', CURSOR_KEY);
  }

  async setEnqueuedUpTo(stream: number): Promise<void> {
    await this.db.write([this.db.put('meta_value', CURSOR_KEY, stream)]);
  }
}
