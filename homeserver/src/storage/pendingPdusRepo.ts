// PDUs that an acknowledged transaction carried but that could not be taken in yet, because
// filling their holes failed for a passing reason: kept durably until a later attempt
// succeeds or gives up (federation/ingest/pduRetrier.ts). Layout: schema.ts originevent_pendingpdu.
import type { Database } from './db.js';
import { key, prefixRange, splitStrings } from './keys.js';

export interface PendingPdu {
  /** The PDU as the origin sent it (wire form). */
  pdu: unknown;
  firstTs: number;
  attempts: number;
  /** Not retried before this time. */
  nextTs: number;
}

export interface PendingEntry extends PendingPdu {
  origin: string;
  eventId: string;
}

export class PendingPdusRepo {
  constructor(private readonly db: Database) {}

  async put(origin: string, eventId: string, entry: PendingPdu): Promise<void> {
    await this.db.write([this.db.put('originevent_pendingpdu', key(origin, eventId), entry)]);
  }

  async get(origin: string, eventId: string): Promise<PendingPdu | undefined> {
    return this.db.get<PendingPdu>('originevent_pendingpdu', key(origin, eventId));
  }

  async delete(origin: string, eventId: string): Promise<void> {
    await this.db.write([this.db.del('originevent_pendingpdu', key(origin, eventId))]);
  }

  /** Every pending PDU, or those of one origin. */
  async list(origin?: string): Promise<PendingEntry[]> {
    const rows = await this.db.range<PendingPdu>('originevent_pendingpdu', origin === undefined ? {} : prefixRange(key(origin)));
    return rows.map(([k, v]) => {
      const [o, eventId] = splitStrings(k);
      return { ...v, origin: o, eventId };
    });
  }
}
