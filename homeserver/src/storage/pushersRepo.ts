// Pushers per user, who shares a pushkey, and how far each pusher has delivered.
// Layouts: schema.ts userpusher_pusher, apppushkey_user, userpusher_sent.
import type { Database, BatchOp } from './db.js';
import { key, prefixRange, splitStrings } from './keys.js';

export interface PusherRecord {
  kind: 'http';
  app_id: string;
  pushkey: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag?: string;
  lang: string;
  data: Record<string, unknown> & { url: string };
  /** When the pushkey was set (ms). */
  ts: number;
  /** The device whose access token set it, for removal with the device. */
  deviceId?: string;
}

export class PushersRepo {
  constructor(private readonly db: Database) {}

  get(userId: string, appId: string, pushkey: string): Promise<PusherRecord | undefined> {
    return this.db.get<PusherRecord>('userpusher_pusher', key(userId, appId, pushkey));
  }

  async list(userId: string): Promise<PusherRecord[]> {
    return (await this.db.range<PusherRecord>('userpusher_pusher', prefixRange(key(userId)))).map(([, v]) => v);
  }

  /** Every pusher of every user (resuming deliveries at start). */
  async all(): Promise<Array<{ userId: string; pusher: PusherRecord }>> {
    const rows = await this.db.range<PusherRecord>('userpusher_pusher', {});
    return rows.map(([k, pusher]) => ({ userId: splitStrings(k)[0], pusher }));
  }

  /** Users other than `exceptUserId` with a pusher for this app ID and pushkey. */
  async otherUsers(appId: string, pushkey: string, exceptUserId: string): Promise<string[]> {
    const rows = await this.db.range<true>('apppushkey_user', prefixRange(key(appId, pushkey)));
    return rows.map(([k]) => splitStrings(k)[2]).filter((u) => u !== exceptUserId);
  }

  /**
   * Create or replace a pusher and remove the same pushkey's pushers of `removeUsers`, in
   * one batch. `sentFrom` starts a new pusher's delivery cursor (nothing older is pushed).
   */
  async set(userId: string, rec: PusherRecord, opts: { removeUsers: string[]; sentFrom?: number }): Promise<void> {
    const ops: BatchOp[] = [
      this.db.put('userpusher_pusher', key(userId, rec.app_id, rec.pushkey), rec),
      this.db.put('apppushkey_user', key(rec.app_id, rec.pushkey, userId), true),
    ];
    if (opts.sentFrom !== undefined) ops.push(this.db.put('userpusher_sent', key(userId, rec.app_id, rec.pushkey), opts.sentFrom));
    for (const other of opts.removeUsers) ops.push(...this.removeOps(other, rec.app_id, rec.pushkey));
    await this.db.write(ops);
  }

  remove(userId: string, appId: string, pushkey: string): Promise<void> {
    return this.db.write(this.removeOps(userId, appId, pushkey));
  }

  /** Stream position of the last notification this pusher delivered (or skipped). */
  async sentUpTo(userId: string, appId: string, pushkey: string): Promise<number> {
    return (await this.db.get<number>('userpusher_sent', key(userId, appId, pushkey))) ?? 0;
  }

  /** Moves the cursor only while the pusher exists (a concurrent removal wins). */
  async setSentUpTo(userId: string, appId: string, pushkey: string, stream: number): Promise<void> {
    if (!(await this.get(userId, appId, pushkey))) return;
    await this.db.write([this.db.put('userpusher_sent', key(userId, appId, pushkey), stream)]);
  }

  private removeOps(userId: string, appId: string, pushkey: string): BatchOp[] {
    return [
      this.db.del('userpusher_pusher', key(userId, appId, pushkey)),
      this.db.del('apppushkey_user', key(appId, pushkey, userId)),
      this.db.del('userpusher_sent', key(userId, appId, pushkey)),
    ];
  }
}
