// GET /notifications: the events the user was notified about, newest first, with whether
// each is read. Spec: client-server-api/modules/push.md "Listing Notifications";
// data/api/client-server/notifications.yaml.
import { invalidParam } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { NotificationRecord, NotificationsRepo, ReadPositions } from '../storage/notificationsRepo.js';
import { readTo } from './counts.js';

export const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** With only=highlight, stop looking after this many notifications and hand out a token. */
const MAX_SCANNED = 5000;

export interface Viewer {
  userId: string;
  deviceId: string;
}

export interface NotificationListDeps {
  repo: Pick<NotificationsRepo, 'ofUser' | 'positions'>;
  reader: Pick<RoomReader, 'getEvents'>;
  /** events/clientEvent.ts toClientEvent. */
  format(ev: StoredEvent, viewer: Viewer, now: number): Record<string, unknown>;
  now?: () => number;
  /** Wait (briefly) until what has been written so far is evaluated, so a just-sent event is listed. */
  caughtUp?: () => Promise<void>;
}

export class NotificationList {
  constructor(private readonly deps: NotificationListDeps) {}

  async list(viewer: Viewer, opts: { from?: string; limit?: number; only?: string }): Promise<Record<string, unknown>> {
    if (opts.from !== undefined && !/^\d{1,15}$/.test(opts.from)) throw invalidParam('Invalid from token');
    await this.deps.caughtUp?.();
    const limit = Math.max(1, Math.min(opts.limit ?? DEFAULT_LIMIT, MAX_LIMIT));
    const onlyHighlight = opts.only === 'highlight';
    let before = opts.from !== undefined ? Number(opts.from) : undefined;
    const picked: NotificationRecord[] = [];
    let scanned = 0;
    let more = true;
    while (picked.length < limit && more && scanned < MAX_SCANNED) {
      const size = onlyHighlight ? Math.max(limit, 100) : limit - picked.length;
      const page = await this.deps.repo.ofUser(viewer.userId, { before, limit: size, newestFirst: true });
      // A full page: there may be more behind it.
      more = page.length === size;
      for (const [i, rec] of page.entries()) {
        scanned++;
        before = rec.stream;
        if (!onlyHighlight || rec.highlight) picked.push(rec);
        if (picked.length === limit) {
          more ||= i < page.length - 1;
          break;
        }
      }
    }
    const events = await this.deps.reader.getEvents(picked.map((r) => r.eventId));
    const positions = new Map<string, ReadPositions | undefined>();
    const now = (this.deps.now ?? Date.now)();
    const notifications: Array<Record<string, unknown>> = [];
    for (const [i, rec] of picked.entries()) {
      const ev = events[i];
      if (!ev) continue;
      if (!positions.has(rec.roomId)) positions.set(rec.roomId, await this.deps.repo.positions(viewer.userId, rec.roomId));
      const c = positions.get(rec.roomId);
      notifications.push({
        actions: rec.actions,
        event: this.deps.format(ev, viewer, now),
        read: c ? rec.stream <= readTo(c, rec.thread) : false,
        room_id: rec.roomId,
        ts: rec.ts,
      });
    }
    const out: Record<string, unknown> = { notifications };
    if (more && before !== undefined) out.next_token = String(before);
    return out;
  }
}
