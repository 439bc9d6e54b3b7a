// Unread counts per (user, room), in memory. Only read positions are stored; a pair's
// counts are loaded once from its positions and the notifications after them, then kept
// up to date by the push worker (their only writer) after each batch it commits, so a
// notification costs no counts write and /sync reads counts without touching the
// database. A load that overlaps a commit is answered but not kept (it may miss part of
// that commit). Spec: client-server-api/modules/push.md "Receiving notifications".
import { Lru } from '../storage/lru.js';
import { PairKeys } from '../storage/pairKeys.js';
import type { NotificationsRepo, ReadPositions, RoomCounts, RoomNotification } from '../storage/notificationsRepo.js';
import { countNotification, emptyCounts } from './counts.js';

/** Pairs kept; an entry is a few hundred bytes. */
const CAPACITY = 100_000;

type Repo = Pick<NotificationsRepo, 'positions' | 'roomNotificationsAfter'>;

const pairs = new PairKeys();
export const pairKey = (userId: string, roomId: string): string => pairs.of(userId, roomId);

/** Counts with every thread's read position and nothing counted yet. */
export function countsFromPositions(p: ReadPositions | undefined): RoomCounts {
  const c = emptyCounts();
  if (!p) return c;
  c.readTo = p.readTo;
  for (const [t, v] of Object.entries(p.threads)) c.threads[t] = { n: 0, h: 0, readTo: v.readTo };
  return c;
}

/** What is stored of counts: the positions only. */
export function positionsOf(c: RoomCounts): ReadPositions {
  const threads: ReadPositions['threads'] = {};
  for (const [t, v] of Object.entries(c.threads)) if (v.readTo > 0) threads[t] = { readTo: v.readTo };
  return { readTo: c.readTo, threads };
}

export class CountsCache {
  private readonly lru: Lru<string, RoomCounts>;
  /** Pairs known to have a stored positions row (so a notification need not look). */
  private readonly rows: Lru<string, true>;
  private readonly loading = new Map<string, Promise<RoomCounts>>();
  /** Bumped around every commit of the worker: a load that saw it change is not kept. */
  private generation = 0;
  private writing = 0;

  constructor(
    private readonly repo: Repo,
    capacity = CAPACITY,
  ) {
    this.lru = new Lru(capacity);
    this.rows = new Lru(capacity);
  }

  /** Whether the pair (a pairKey) is known to have a positions row. */
  hasRow(pair: string): boolean {
    return this.rows.get(pair) !== undefined;
  }

  /** After a commit (or a read that found it): the pair (a pairKey) has a positions row. */
  rowExists(pair: string): void {
    this.rows.set(pair, true);
  }

  /** The pair's counts. Treat as read-only: only the worker changes them, as it commits. */
  get(userId: string, roomId: string): Promise<RoomCounts> {
    const k = pairKey(userId, roomId);
    const hit = this.lru.get(k);
    if (hit) return Promise.resolve(hit);
    let p = this.loading.get(k);
    if (!p) {
      p = this.load(k, userId, roomId).finally(() => this.loading.delete(k));
      this.loading.set(k, p);
    }
    return p;
  }

  /** Cached counts, or undefined (not loaded: the next get loads them from storage). */
  peek(userId: string, roomId: string): RoomCounts | undefined {
    return this.lru.get(pairKey(userId, roomId));
  }

  /**
   * The worker's commit: `apply` updates the cache (counting the batch's notifications,
   * replacing recounted pairs) before `write` makes the batch durable, then `afterWrite`
   * runs. No load overlapping this is kept. If the write fails, the `touched` pairs (pairKeys)
   * are dropped, to be loaded again from what is stored (the worker retries the batch).
   */
  async commit(write: () => Promise<void>, apply: () => void, afterWrite: () => void, touched: () => Iterable<string>): Promise<void> {
    this.writing++;
    this.generation++;
    try {
      apply();
      try {
        await write();
      } catch (err) {
        for (const pair of touched()) this.lru.delete(pair);
        throw err;
      }
      afterWrite();
    } finally {
      this.generation++;
      this.writing--;
    }
  }

  /** In a commit: one more notification for a cached pair, a pairKey (uncached pairs load it with the rest). */
  count(pair: string, n: RoomNotification): void {
    const c = this.lru.get(pair);
    if (c) countNotification(c, n);
  }

  /** In a commit: the pair's recounted counts. */
  set(userId: string, roomId: string, counts: RoomCounts): void {
    this.lru.set(pairKey(userId, roomId), counts);
  }

  private async load(k: string, userId: string, roomId: string): Promise<RoomCounts> {
    for (let attempt = 0; ; attempt++) {
      const generation = this.generation;
      const stable = this.writing === 0;
      const positions = await this.repo.positions(userId, roomId);
      const counts = countsFromPositions(positions);
      for (const n of await this.repo.roomNotificationsAfter(userId, roomId, counts.readTo)) countNotification(counts, n);
      if (stable && generation === this.generation && this.writing === 0) {
        this.lru.set(k, counts);
        return counts;
      }
      // Overlapped a commit: try again a couple of times, then answer without keeping it.
      if (attempt === 2) return counts;
    }
  }
}
