// Account data: the latest content per (user, room or global, type) and a per-user index
// in stream order, so /sync reads "what changed since position N" with one range.
// Layouts: schema.ts useraccountdata_data, userstream_accountdata.
import type { Database } from './db.js';
import { key, prefixRange, readU64, splitStrings } from './keys.js';

export interface AccountDataRecord {
  content: Record<string, unknown>;
  stream: number;
}

export interface AccountDataEntry extends AccountDataRecord {
  /** '' for global account data. */
  roomId: string;
  type: string;
}

interface IndexValue {
  roomId: string;
  type: string;
}

export class AccountDataRepo {
  constructor(private readonly db: Database) {}

  get(userId: string, roomId: string, type: string): Promise<AccountDataRecord | undefined> {
    return this.db.get<AccountDataRecord>('useraccountdata_data', key(userId, roomId, type));
  }

  /** Store content and move its index entry, in one atomic batch. */
  async put(userId: string, entry: AccountDataEntry, previous: AccountDataRecord | undefined): Promise<void> {
    const { roomId, type, content, stream } = entry;
    const ops = [
      this.db.put('useraccountdata_data', key(userId, roomId, type), { content, stream } satisfies AccountDataRecord),
      this.db.put('userstream_accountdata', key(userId, stream), { roomId, type } satisfies IndexValue),
    ];
    if (previous) ops.push(this.db.del('userstream_accountdata', key(userId, previous.stream)));
    await this.db.write(ops);
  }

  /** Everything of a user (global and every room). */
  async all(userId: string): Promise<AccountDataEntry[]> {
    const prefix = key(userId);
    // Global entries have an empty room part, so their keys continue with a separator byte.
    const rows = await this.db.range<AccountDataRecord>('useraccountdata_data', prefixRange(prefix));
    return rows.map(([k, v]) => {
      const [, roomId, type] = splitStrings(k);
      return { roomId, type, ...v };
    });
  }

  /** The account data of one of the user's rooms. */
  async ofRoom(userId: string, roomId: string): Promise<AccountDataEntry[]> {
    const rows = await this.db.range<AccountDataRecord>('useraccountdata_data', prefixRange(key(userId, roomId)));
    return rows.map(([k, v]) => ({ roomId, type: splitStrings(k)[2], ...v }));
  }

  /** What changed in (after, upTo], in stream order. */
  async since(userId: string, after: number, upTo: number): Promise<AccountDataEntry[]> {
    const rows = await this.db.range<IndexValue>('userstream_accountdata', { gt: key(userId, after), lte: key(userId, upTo) });
    if (rows.length === 0) return [];
    const prefixLen = key(userId).length;
    const data = await this.db.getMany<AccountDataRecord>(
      'useraccountdata_data',
      rows.map(([, v]) => key(userId, v.roomId, v.type)),
    );
    const out: AccountDataEntry[] = [];
    rows.forEach(([k, v], i) => {
      const d = data[i];
      if (d && d.stream === readU64(k, prefixLen)) out.push({ ...v, ...d });
    });
    return out;
  }
}
