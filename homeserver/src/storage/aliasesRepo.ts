// Local room aliases: alias → room (and who created it), and room → its aliases.
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, prefixRange } from './keys.js';

export interface AliasRecord {
  roomId: string;
  creator: string;
}

export class AliasesRepo {
  constructor(private readonly db: Database) {}

  get(alias: string): Promise<AliasRecord | undefined> {
    return this.db.get<AliasRecord>('alias_room', Buffer.from(alias, 'utf8'));
  }

  async ofRoom(shortRoom: number): Promise<string[]> {
    const rows = await this.db.range<true>('roomalias_alias', prefixRange(key(shortRoom)));
    return rows.map(([k]) => k.toString('utf8', 8, k.length - 1));
  }

  put(batch: Batch, alias: string, shortRoom: number, rec: AliasRecord): void {
    batch.add(this.db.put('alias_room', Buffer.from(alias, 'utf8'), rec), this.db.put('roomalias_alias', key(shortRoom, alias), true));
  }

  del(batch: Batch, alias: string, shortRoom: number): void {
    batch.add(this.db.del('alias_room', Buffer.from(alias, 'utf8')), this.db.del('roomalias_alias', key(shortRoom, alias)));
  }
}
