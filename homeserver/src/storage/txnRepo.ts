// Client transaction IDs → the event they created, so a retried PUT returns the
// same event. Scoped like the request: user, device, room and endpoint.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key } from './keys.js';

export interface TxnScope {
  userId: string;
  deviceId: string;
  roomId: string;
  /** `send:<event type>` or `redact:<event ID>`. */
  endpoint: string;
  txnId: string;
}

const keyOf = (t: TxnScope) => key(t.userId, t.deviceId, t.roomId, t.endpoint, t.txnId);

export class TxnRepo {
  constructor(private readonly db: Database) {}

  get(scope: TxnScope): Promise<string | undefined> {
    return this.db.get<string>('txn_eventid', keyOf(scope));
  }

  put(batch: Batch, scope: TxnScope, eventId: string): void {
    batch.add(this.db.put('txn_eventid', keyOf(scope), eventId));
  }
}
