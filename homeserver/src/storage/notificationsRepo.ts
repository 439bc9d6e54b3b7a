// Notifications (events whose push rules said "notify") per user, the unread counts per
// room and thread, and the evaluation cursor. Layouts: schema.ts userstream_notification,
// userroomstream_notification, userroom_notificationcounts, meta_value 'push_processed'.
import type { PushAction } from '../push/types.js';
import type { Batch } from './batch.js';
import type { Database } from './db.js';
import { key, prefixRange, readU64, splitStrings } from './keys.js';

export interface NotificationRecord {
  stream: number;
  roomId: string;
  eventId: string;
  /** 'main' or the thread root's event ID. */
  thread: string;
  highlight: boolean;
  actions: PushAction[];
  /** When the notification was made (ms). */
  ts: number;
}

/** One notification of a room, as the recount needs it. */
export interface RoomNotification {
  stream: number;
  thread: string;
  highlight: boolean;
}

export interface ThreadCounts {
  /** Unread notifications, and how many of them highlight. */
  n: number;
  h: number;
  /** Stream position of the newest event read in this thread (threaded receipt or own event). */
  readTo: number;
}

export interface RoomCounts {
  /** Stream position of the newest event read through an unthreaded receipt: covers every thread. */
  readTo: number;
  threads: Record<string, ThreadCounts>;
}

const CURSOR_KEY = Buffer.from('push_processed');

type RoomIndexValue = Omit<RoomNotification, 'stream'>;
type UserIndexValue = Omit<NotificationRecord, 'stream'>;

export class NotificationsRepo {
  constructor(private readonly db: Database) {}

  counts(userId: string, roomId: string): Promise<RoomCounts | undefined> {
    return this.db.get<RoomCounts>('userroom_notificationcounts', key(userId, roomId));
  }

  manyCounts(pairs: Array<{ userId: string; roomId: string }>): Promise<Array<RoomCounts | undefined>> {
    return this.db.getMany<RoomCounts>('userroom_notificationcounts', pairs.map((p) => key(p.userId, p.roomId)));
  }

  /** Every room of the user that has counts. */
  async countsOfUser(userId: string): Promise<Array<{ roomId: string; counts: RoomCounts }>> {
    const rows = await this.db.range<RoomCounts>('userroom_notificationcounts', prefixRange(key(userId)));
    return rows.map(([k, counts]) => ({ roomId: splitStrings(k)[1], counts }));
  }

  /** A room's notifications for the user with stream > after, oldest first. */
  async roomNotificationsAfter(userId: string, roomId: string, after: number): Promise<RoomNotification[]> {
    const prefix = key(userId, roomId);
    const rows = await this.db.range<RoomIndexValue>('userroomstream_notification', { gt: key(userId, roomId, after), lt: prefixRange(prefix).lt });
    return rows.map(([k, v]) => ({ stream: readU64(k, prefix.length), ...v }));
  }

  /** The user's notifications with stream in (after, before), newest first when `newestFirst`. */
  async ofUser(userId: string, opts: { after?: number; before?: number; limit: number; newestFirst: boolean }): Promise<NotificationRecord[]> {
    const prefix = key(userId);
    const rows = await this.db.range<UserIndexValue>('userstream_notification', {
      gt: key(userId, opts.after ?? 0),
      lt: opts.before !== undefined ? key(userId, opts.before) : prefixRange(prefix).lt,
      reverse: opts.newestFirst,
      limit: opts.limit,
    });
    return rows.map(([k, v]) => ({ stream: readU64(k, prefix.length), ...v }));
  }

  /** Stream position of the user's newest notification (0 when none). */
  async latestStream(userId: string): Promise<number> {
    const [row] = await this.ofUser(userId, { limit: 1, newestFirst: true });
    return row?.stream ?? 0;
  }

  /** Every room event with stream ≤ this has been evaluated. */
  cursor(): Promise<number | undefined> {
    return this.db.get<number>('meta_value', CURSOR_KEY);
  }

  addNotification(batch: Batch, userId: string, rec: NotificationRecord): void {
    const { stream, ...rest } = rec;
    batch.add(
      this.db.put('userstream_notification', key(userId, stream), rest satisfies UserIndexValue),
      this.db.put('userroomstream_notification', key(userId, rec.roomId, stream), {
        thread: rec.thread,
        highlight: rec.highlight,
      } satisfies RoomIndexValue),
    );
  }

  putCounts(batch: Batch, userId: string, roomId: string, counts: RoomCounts): void {
    batch.add(this.db.put('userroom_notificationcounts', key(userId, roomId), counts));
  }

  setCursor(batch: Batch, pos: number): void {
    batch.add(this.db.put('meta_value', CURSOR_KEY, pos));
  }

  commit(batch: Batch): Promise<void> {
    return batch.commit(this.db);
  }
}
