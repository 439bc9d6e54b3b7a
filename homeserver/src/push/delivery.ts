// Delivery of notifications to HTTP push gateways, never on the send path. Each pusher
// keeps a durable cursor into the user's notifications and sends them in order, one
// request each; a failure is retried with exponential backoff (capped), and a notification
// that keeps failing is given up after a while so later ones still go out. Pushkeys the
// gateway reports as rejected lose their pusher.
// Spec: push-gateway-api.md "Homeserver behaviour" (retry with exponential backoff);
// data/api/push-gateway/push_notifier.yaml (`rejected`: remove those pushers).
import type { RoomReader } from '../rooms/types.js';
import type { NotificationRecord, NotificationsRepo } from '../storage/notificationsRepo.js';
import type { PushersRepo, PusherRecord } from '../storage/pushersRepo.js';
import { interpretActions } from './actions.js';
import { readTo } from './counts.js';
import { badgeNotification, eventNotification, postNotify, type NotifyOutcome } from './gateway.js';

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** A notification still failing after this long is skipped. */
  giveUpMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 10 * 60_000, giveUpMs: 24 * 3600_000 };

const PAGE = 20;

export interface DeliveryDeps {
  pushers: {
    pushersOf(userId: string): Promise<PusherRecord[]>;
    /** Absent: every user is looked up. */
    mayHavePushers?(userId: string): boolean;
    remove(userId: string, appId: string, pushkey: string): Promise<void>;
  };
  cursors: Pick<PushersRepo, 'sentUpTo' | 'setSentUpTo'>;
  notifications: Pick<NotificationsRepo, 'ofUser' | 'positions'>;
  /** How many rooms have unread notifications for the user (the badge). */
  unreadRooms(userId: string): Promise<number>;
  reader: Pick<RoomReader, 'getEvent' | 'currentStateEvent'>;
  fetch?: typeof fetch;
  now?: () => number;
  backoff?: Backoff;
  onError?: (err: unknown, what: string) => void;
}

interface PusherState {
  running: boolean;
  wanted: boolean;
  timer?: NodeJS.Timeout;
  /** Current backoff and since when the head notification has been failing. */
  delayMs: number;
  failingSince?: number;
  /** The user read while a notification was being sent: the badge goes out after it. */
  badgeWanted?: boolean;
}

export class PushDelivery {
  private readonly states = new Map<string, PusherState>();
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<void>>();
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly deps: DeliveryDeps) {
    this.backoff = deps.backoff ?? DEFAULT_BACKOFF;
    this.now = deps.now ?? Date.now;
  }

  /** These users have new notifications. */
  poke(userIds: Iterable<string>): void {
    // A message in a big room notifies thousands, almost none with a pusher: skip them without a promise each.
    for (const userId of userIds) if (this.deps.pushers.mayHavePushers?.(userId) !== false) this.track(this.pokeUser(userId));
  }

  /** Resume every pusher (at start: notifications made while the server was down, retries cut short). */
  resume(all: Array<{ userId: string; pusher: PusherRecord }>): void {
    for (const { userId, pusher } of all) this.kick(userId, pusher.app_id, pusher.pushkey);
  }

  /** These users read something: tell their gateways the new badge (best effort, once). */
  badge(userIds: Iterable<string>): void {
    for (const userId of userIds) if (this.deps.pushers.mayHavePushers?.(userId) !== false) this.track(this.sendBadges(userId));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    for (const s of this.states.values()) clearTimeout(s.timer);
    await Promise.allSettled([...this.running]);
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err) => this.deps.onError?.(err, 'push delivery')).finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  private async pokeUser(userId: string): Promise<void> {
    for (const pusher of await this.deps.pushers.pushersOf(userId)) this.kick(userId, pusher.app_id, pusher.pushkey);
  }

  private kick(userId: string, appId: string, pushkey: string): void {
    if (this.closed) return;
    const id = stateKey(userId, appId, pushkey);
    let s = this.states.get(id);
    if (!s) this.states.set(id, (s = { running: false, wanted: false, delayMs: this.backoff.initialMs }));
    s.wanted = true;
    // While backing off, the timer will resume it; new notifications just wait their turn.
    if (s.running || s.timer) return;
    s.running = true;
    const st = s;
    this.track(
      (async () => {
        try {
          while (st.wanted && !this.closed) {
            st.wanted = false;
            // Read afresh each time: the pusher may have been changed or removed meanwhile.
            const pusher = (await this.deps.pushers.pushersOf(userId)).find((p) => p.app_id === appId && p.pushkey === pushkey);
            if (!pusher || !(await this.drain(userId, pusher, st))) break;
          }
          // A read while the last notification was on its way (its counts may predate it).
          while (st.badgeWanted && !st.timer && !this.closed) {
            st.badgeWanted = false;
            const pusher = (await this.deps.pushers.pushersOf(userId)).find((p) => p.app_id === appId && p.pushkey === pushkey);
            if (pusher) await this.sendBadge(userId, pusher, await this.unreadRooms(userId));
          }
        } finally {
          st.running = false;
          if (!st.timer && !st.wanted) this.states.delete(id);
        }
      })(),
    );
  }

  /** Send what is pending; false when stopped by a failure (a retry is scheduled) or removal. */
  private async drain(userId: string, pusher: PusherRecord, s: PusherState): Promise<boolean> {
    const { cursors, notifications } = this.deps;
    let after = await cursors.sentUpTo(userId, pusher.app_id, pusher.pushkey);
    for (;;) {
      const page = await notifications.ofUser(userId, { after, limit: PAGE, newestFirst: false });
      if (page.length === 0) return true;
      for (const rec of page) {
        const outcome = await this.deliver(userId, pusher, rec);
        if (this.closed) return false;
        if (!outcome.ok) {
          const failingSince = (s.failingSince ??= this.now());
          if (this.now() - failingSince < this.backoff.giveUpMs) {
            this.retryLater(userId, pusher.app_id, pusher.pushkey, s);
            return false;
          }
          this.deps.onError?.(new Error(outcome.reason), `push to ${pusher.app_id} for ${userId}: giving up on ${rec.eventId}`);
        } else if (outcome.rejected.includes(pusher.pushkey)) {
          await this.deps.pushers.remove(userId, pusher.app_id, pusher.pushkey);
          return false;
        }
        s.failingSince = undefined;
        s.delayMs = this.backoff.initialMs;
        after = rec.stream;
        await cursors.setSentUpTo(userId, pusher.app_id, pusher.pushkey, after);
      }
    }
  }

  private retryLater(userId: string, appId: string, pushkey: string, s: PusherState): void {
    const delay = s.delayMs;
    s.delayMs = Math.min(s.delayMs * 2, this.backoff.maxMs);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.kick(userId, appId, pushkey);
    }, delay);
  }

  /** One notification; already-read or vanished events count as done. */
  private async deliver(userId: string, pusher: PusherRecord, rec: NotificationRecord): Promise<NotifyOutcome> {
    const { notifications, reader } = this.deps;
    const positions = await notifications.positions(userId, rec.roomId);
    if (positions && rec.stream <= readTo(positions, rec.thread)) return { ok: true, rejected: [] };
    const ev = await reader.getEvent(rec.eventId);
    if (!ev) return { ok: true, rejected: [] };
    const [sender, name, alias] = await Promise.all([
      reader.currentStateEvent(rec.roomId, 'm.room.member', ev.pdu.sender),
      reader.currentStateEvent(rec.roomId, 'm.room.name', ''),
      reader.currentStateEvent(rec.roomId, 'm.room.canonical_alias', ''),
    ]);
    const body = eventNotification(
      pusher,
      userId,
      { eventId: ev.eventId, roomId: ev.roomId, type: ev.pdu.type, sender: ev.pdu.sender, content: ev.pdu.content, stateKey: ev.pdu.state_key },
      {
        unread: await this.unreadRooms(userId),
        tweaks: interpretActions(rec.actions).tweaks,
        senderDisplayName: stringOf(sender?.pdu.content.displayname),
        roomName: stringOf(name?.pdu.content.name),
        roomAlias: stringOf(alias?.pdu.content.alias),
      },
    );
    return postNotify(pusher.data.url, body, { fetch: this.deps.fetch, signal: this.abort.signal });
  }

  private async sendBadges(userId: string): Promise<void> {
    const pushers = await this.deps.pushers.pushersOf(userId);
    if (pushers.length === 0) return;
    const unread = await this.unreadRooms(userId);
    for (const pusher of pushers) {
      const s = this.states.get(stateKey(userId, pusher.app_id, pusher.pushkey));
      // A failing pusher carries the new counts with the notification it retries; a busy one
      // sends the badge once it is done (the notification in flight may predate the read).
      if (s?.timer) continue;
      if (s?.running) {
        s.badgeWanted = true;
        continue;
      }
      await this.sendBadge(userId, pusher, unread);
    }
  }

  private async sendBadge(userId: string, pusher: PusherRecord, unread: number): Promise<void> {
    const outcome = await postNotify(pusher.data.url, badgeNotification(pusher, unread), { fetch: this.deps.fetch, signal: this.abort.signal });
    if (outcome.ok && outcome.rejected.includes(pusher.pushkey)) await this.deps.pushers.remove(userId, pusher.app_id, pusher.pushkey);
  }

  private unreadRooms(userId: string): Promise<number> {
    return this.deps.unreadRooms(userId);
  }
}

const stateKey = (userId: string, appId: string, pushkey: string) => `${userId}\u0000${appId}\u0000${pushkey}`;
const stringOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
