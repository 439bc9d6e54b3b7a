// m.ignored_user_list: whom a user ignores, and the filter step that hides their
// events. Spec: client-server-api/modules/ignore_users.md — state events of ignored
// users are still sent; their invites are not; their children leave aggregations.
import type { StoredEvent } from '../rooms/types.js';
import { Lru } from '../storage/lru.js';

export const IGNORED_USER_LIST = 'm.ignored_user_list';

export interface IgnoreListSource {
  /** Global account data of the user. */
  get(userId: string, roomId: string, type: string): Promise<{ content: Record<string, unknown> } | undefined>;
}

/** Users whose list is kept in memory: every /sync filters every room's events through it. */
const CACHED_USERS = 20_000;

export class IgnoredUsers {
  private readonly cache = new Lru<string, ReadonlySet<string>>(CACHED_USERS);
  /** Bumped by every forget: a read that overlapped one may hold the old list and is not cached. */
  private generation = 0;
  private readonly reading = new Map<string, Promise<ReadonlySet<string>>>();

  constructor(private readonly source: IgnoreListSource) {}

  of(userId: string): Promise<ReadonlySet<string>> {
    const hit = this.cache.get(userId);
    if (hit) return Promise.resolve(hit);
    // The syncs one message wakes ask for the same users at once: one read each.
    let p = this.reading.get(userId);
    if (!p) {
      p = this.read(userId).finally(() => {
        if (this.reading.get(userId) === p) this.reading.delete(userId);
      });
      this.reading.set(userId, p);
    }
    return p;
  }

  /** The list if it is in memory (every /sync reads it, so a syncing user's usually is). */
  peek(userId: string): ReadonlySet<string> | undefined {
    return this.cache.get(userId);
  }

  private async read(userId: string): Promise<ReadonlySet<string>> {
    const gen = this.generation;
    const rec = await this.source.get(userId, '', IGNORED_USER_LIST);
    const list = rec?.content.ignored_users;
    const set = typeof list !== 'object' || list === null || Array.isArray(list) ? EMPTY : new Set(Object.keys(list).filter((u) => u !== userId));
    if (gen === this.generation) this.cache.set(userId, set);
    return set;
  }

  /** The user's m.ignored_user_list is being written (call when staged and again once durable). */
  forget(userId: string): void {
    this.generation++;
    this.cache.delete(userId);
    this.reading.delete(userId);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

type Filter = (userId: string, roomId: string, events: StoredEvent[]) => Promise<StoredEvent[]>;

/** Wrap a visibility filter so that non-state events of ignored users are dropped too. */
export function hidingIgnored(visible: Filter, ignored: Pick<IgnoredUsers, 'of'>): Filter {
  return async (userId, roomId, events) => {
    const list = await ignored.of(userId);
    const kept = list.size === 0 ? events : events.filter((e) => typeof e.pdu.state_key === 'string' || !list.has(e.pdu.sender));
    return kept.length === 0 ? kept : visible(userId, roomId, kept);
  };
}
