// m.ignored_user_list: whom a user ignores, and the filter step that hides their
// events. Spec: client-server-api/modules/ignore_users.md — state events of ignored
// users are still sent; their invites are not; their children leave aggregations.
import type { StoredEvent } from '../rooms/types.js';

export const IGNORED_USER_LIST = 'm.ignored_user_list';

export interface IgnoreListSource {
  /** Global account data of the user. */
  get(userId: string, roomId: string, type: string): Promise<{ content: Record<string, unknown> } | undefined>;
}

export class IgnoredUsers {
  constructor(private readonly source: IgnoreListSource) {}

  async of(userId: string): Promise<ReadonlySet<string>> {
    const rec = await this.source.get(userId, '', IGNORED_USER_LIST);
    const list = rec?.content.ignored_users;
    if (typeof list !== 'object' || list === null || Array.isArray(list)) return EMPTY;
    return new Set(Object.keys(list).filter((u) => u !== userId));
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
