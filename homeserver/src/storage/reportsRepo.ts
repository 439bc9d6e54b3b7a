// Content reports (POST /rooms/{roomId}/report[/{eventId}]), kept for server admins.
// Layout: schema.ts report_data.
import { randomBytes } from 'node:crypto';
import type { Database } from './db.js';
import { key, readU64, splitStrings } from './keys.js';

export interface ReportRecord {
  kind: 'event' | 'room' | 'user';
  roomId?: string;
  eventId?: string;
  userId?: string;
  reporter: string;
  reason?: string;
  score?: number;
}

export interface StoredReport extends ReportRecord {
  id: string;
  receivedTs: number;
}

export class ReportsRepo {
  constructor(private readonly db: Database) {}

  /** Store a report durably; returns its ID. */
  async add(report: ReportRecord, now: number): Promise<string> {
    const id = randomBytes(9).toString('base64url');
    await this.db.write([this.db.put('report_data', key(now, id), report)]);
    return id;
  }

  /** Reports newest first. */
  async list(limit: number): Promise<StoredReport[]> {
    const rows = await this.db.range<ReportRecord>('report_data', { reverse: true, limit });
    return rows.map(([k, v]) => ({ ...v, id: splitStrings(k.subarray(8))[0], receivedTs: readU64(k) }));
  }
}
