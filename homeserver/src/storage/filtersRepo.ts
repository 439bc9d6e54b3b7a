// Stored filters (POST /user/{userId}/filter). Layout: schema.ts userfilter_filter.
import type { Database } from './db.js';
import { key } from './keys.js';

export class FiltersRepo {
  constructor(private readonly db: Database) {}

  get(userId: string, filterId: string): Promise<Record<string, unknown> | undefined> {
    return this.db.get<Record<string, unknown>>('userfilter_filter', key(userId, filterId));
  }

  async put(userId: string, filterId: string, filter: Record<string, unknown>): Promise<void> {
    await this.db.write([this.db.put('userfilter_filter', key(userId, filterId), filter)]);
  }
}
