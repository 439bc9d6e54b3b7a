// Notifications (events whose push rules said "notify") per user, how far each user has
// read each room, and the evaluation cursor. What the notifications of one event share is
// written once (stream_notificationevent); each recipient gets two small index rows. Layouts:
// schema.ts userstream_notification, stream_notificationevent, userroomstream_notification,
// userroom_notificationcounts, meta_value 'push_processed'.
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

/** How far a user has read a room: what is stored; counts are derived (push/countsCache.ts). */
export interface ReadPositions {
  readTo: number;
  threads: Record<string, { readTo: number }>;
}

/** One event's notifications: what they share, and the recipients with their own variant. */
export interface EventNotifications {
  stream: number;
  roomId: string;
  eventId: string;
  thread: string;
  ts: number;
  /** The result most recipients got. */
  common: { highlight: boolean; actions: PushAction[] };
  recipients: Array<{ userId: string; own?: { highlight: boolean; actions: PushAction[] } }>;
}

const CURSOR_KEY = Buffer.from('push_processed');

type RoomIndexValue = Omit<RoomNotification, 'stream'>;
type EventValue = Omit<NotificationRecord, 'stream'>;
/** {} (the event's common notification), the user's own variant, or a whole record (older rows). */
type UserIndexValue = Partial<EventValue>;

export class NotificationsRepo {
  constructor(private readonly db: Database) {}

  positions(userId: string, roomId: string): Promise<ReadPositions | undefined> {
    return this.db.get<ReadPositions>('userroom_notificationcounts', key(userId, roomId));
  }

  manyPositions(pairs: ReadonlyArray<{ userId: string; roomId: string }>): Promise<Array<ReadPositions | undefined>> {
    return this.db.getMany<ReadPositions>('userroom_notificationcounts', pairs.map((p) => key(p.userId, p.roomId)));
  }

  /** Every room of the user with notifications or a read position. */
  async roomsOfUser(userId: string): Promise<string[]> {
    const rows = await this.db.range<unknown>('userroom_notificationcounts', prefixRange(key(userId)));
    return rows.map(([k]) => splitStrings(k)[1]);
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
    const streams = rows.map(([k]) => readU64(k, prefix.length));
    const shared = rows.map(([, v]) => v.eventId === undefined);
    const events = await this.db.getMany<EventValue>('stream_notificationevent', streams.filter((_, i) => shared[i]).map((st) => key(st)));
    const out: NotificationRecord[] = [];
    let e = 0;
    rows.forEach(([, v], i) => {
      if (!shared[i]) return out.push({ stream: streams[i], ...(v as EventValue) });
      const ev = events[e++];
      if (ev) out.push({ stream: streams[i], ...ev, ...v });
    });
    return out;
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

  /** One event's notifications: the shared record once, two small index rows per recipient. */
  addNotifications(batch: Batch, n: EventNotifications): void {
    const { stream, roomId, eventId, thread, ts, common } = n;
    batch.add(this.db.put('stream_notificationevent', key(stream), { roomId, eventId, thread, ts, ...common } satisfies EventValue));
    for (const r of n.recipients) {
      batch.add(
        this.db.put('userstream_notification', key(r.userId, stream), (r.own ?? {}) satisfies UserIndexValue),
        this.db.put('userroomstream_notification', key(r.userId, roomId, stream), {
          thread,
          highlight: (r.own ?? common).highlight,
        } satisfies RoomIndexValue),
      );
    }
  }

  putPositions(batch: Batch, userId: string, roomId: string, positions: ReadPositions): void {
    batch.add(this.db.put('userroom_notificationcounts', key(userId, roomId), positions));
  }

  setCursor(batch: Batch, pos: number): void {
    batch.add(this.db.put('meta_value', CURSOR_KEY, pos));
  }

  commit(batch: Batch): Promise<void> {
    return batch.commit(this.db);
  }

  /** A batch whose cursor is in it and whose rows are recomputed from durable events after a crash. */
  commitDerived(batch: Batch): Promise<void> {
    return batch.commitDerived(this.db);
  }
}
