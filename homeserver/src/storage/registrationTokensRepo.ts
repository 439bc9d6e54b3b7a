// Registration tokens (m.login.registration_token) and how often each was used.
// Layout: schema.ts regtoken_data. `pending` is not stored: it counts live UIA sessions,
// which live in memory (admin/registrationTokens.ts).
import type { BatchOp, Database } from './db.js';
import { strKey } from './db.js';

export interface RegistrationTokenRecord {
  /** Registrations the token may complete; null = unlimited. */
  uses_allowed: number | null;
  /** Registrations completed with it. */
  completed: number;
  /** Last moment (ms since the epoch) the token is valid; null = never expires. */
  expiry_time: number | null;
}

export class RegistrationTokensRepo {
  constructor(private readonly db: Database) {}

  get(token: string): Promise<RegistrationTokenRecord | undefined> {
    return this.db.get<RegistrationTokenRecord>('regtoken_data', strKey(token));
  }

  async all(): Promise<Array<{ token: string; record: RegistrationTokenRecord }>> {
    const rows = await this.db.range<RegistrationTokenRecord>('regtoken_data', {});
    return rows.map(([k, record]) => ({ token: k.toString('utf8'), record }));
  }

  put(token: string, record: RegistrationTokenRecord): BatchOp {
    return this.db.put('regtoken_data', strKey(token), record);
  }

  del(token: string): BatchOp {
    return this.db.del('regtoken_data', strKey(token));
  }

  write(ops: BatchOp[]): Promise<void> {
    return this.db.write(ops);
  }
}
