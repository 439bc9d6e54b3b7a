// Unread notification counts of one user in one room, per thread, as pure functions.
// Spec: client-server-api/modules/push.md "Marking notifications as read" (a receipt
// clears notifications up to and including its event; an unthreaded receipt covers every
// thread, a threaded one only its thread, `main` being the main timeline; sending an
// event counts as reading up to it); modules/threading.md "Threaded read receipts".
import type { ReadPositions, RoomCounts, RoomNotification, ThreadCounts } from '../storage/notificationsRepo.js';

export type { RoomCounts, RoomNotification } from '../storage/notificationsRepo.js';

export const MAIN_THREAD = 'main';

export interface UnreadCounts {
  notification_count: number;
  highlight_count: number;
}

export const emptyCounts = (): RoomCounts => ({ readTo: 0, threads: {} });

/** How far the user has read in `thread` (from counts or stored positions). */
export function readTo(counts: ReadPositions, thread: string): number {
  return Math.max(counts.readTo, counts.threads[thread]?.readTo ?? 0);
}

/** Count a new notification unless it is already read. Returns whether the counts changed. */
export function countNotification(counts: RoomCounts, n: RoomNotification): boolean {
  if (n.stream <= readTo(counts, n.thread)) return false;
  const t = (counts.threads[n.thread] ??= { n: 0, h: 0, readTo: 0 });
  t.n++;
  if (n.highlight) t.h++;
  return true;
}

/**
 * Move the read position to `stream` in `thread` (undefined: an unthreaded receipt, every
 * thread) and recount from `after`: the room's notifications with stream > `stream`.
 * Returns whether anything changed; never moves a position backwards.
 */
export function markRead(counts: RoomCounts, thread: string | undefined, stream: number, after: readonly RoomNotification[]): boolean {
  let touched: string[];
  if (thread === undefined) {
    if (stream <= counts.readTo) return false;
    counts.readTo = stream;
    touched = Object.keys(counts.threads).filter((t) => counts.threads[t].readTo <= stream);
  } else {
    if (stream <= readTo(counts, thread)) return false;
    (counts.threads[thread] ??= { n: 0, h: 0, readTo: 0 }).readTo = stream;
    touched = [thread];
  }
  for (const t of touched) {
    const tc = counts.threads[t];
    tc.n = 0;
    tc.h = 0;
    for (const n of after) {
      if (n.thread !== t || n.stream <= stream) continue;
      tc.n++;
      if (n.highlight) tc.h++;
    }
    // Nothing unread and nothing the room-wide position does not already say: forget it.
    if (tc.n === 0 && tc.readTo <= counts.readTo) delete counts.threads[t];
  }
  return true;
}

export interface CountsSummary {
  /** Every thread together (clients that do not ask for thread counts). */
  total: UnreadCounts;
  /** The main timeline only. */
  main: UnreadCounts;
  /** Threads with unread notifications, by thread root event ID. */
  threads: Record<string, UnreadCounts>;
}

const asUnread = (t: ThreadCounts | undefined): UnreadCounts => ({ notification_count: t?.n ?? 0, highlight_count: t?.h ?? 0 });

export function summarise(counts: RoomCounts | undefined): CountsSummary {
  const out: CountsSummary = { total: asUnread(undefined), main: asUnread(counts?.threads[MAIN_THREAD]), threads: {} };
  for (const [thread, t] of Object.entries(counts?.threads ?? {})) {
    out.total.notification_count += t.n;
    out.total.highlight_count += t.h;
    if (thread !== MAIN_THREAD && t.n > 0) out.threads[thread] = asUnread(t);
  }
  return out;
}

/**
 * The /sync fields of a joined room. Spec: client-server-api/_index.md "Syncing" (sync.yaml):
 * with the filter's `unread_thread_notifications`, `unread_notifications` covers the main
 * timeline only and each thread gets its own entry; otherwise it covers everything.
 */
export function unreadForSync(
  s: CountsSummary,
  threaded: boolean,
): { unread_notifications: UnreadCounts; unread_thread_notifications?: Record<string, UnreadCounts> } {
  if (!threaded) return { unread_notifications: s.total };
  return { unread_notifications: s.main, unread_thread_notifications: s.threads };
}
