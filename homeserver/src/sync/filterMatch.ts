// Applying filters: a filter JSON compiled once per request into matchers. Pure.
// Spec: client-server-api/_index.md "Filtering"; definitions/event_filter.yaml
// (types with `*` globs, not_* wins over the include list, absent list = everything,
// empty list = nothing), room_event_filter.yaml (rooms, contains_url, lazy loading).
import type { EventFilterJson, FilterJson, RoomEventFilterJson } from './filter.js';

/** What a filter looks at in an event (room events, ephemeral and account data alike). */
export interface FilterableEvent {
  type: string;
  sender?: string;
  roomId?: string;
  content?: unknown;
}

export interface EventMatcher {
  /** The filter's `limit`, if it set one. */
  readonly limit: number | undefined;
  matches(ev: FilterableEvent): boolean;
  /** True when the filter can exclude events by their own fields (types, senders, url). */
  readonly restrictsEvents: boolean;
}

export interface RoomEventMatcher extends EventMatcher {
  matchesRoom(roomId: string): boolean;
  readonly lazyLoadMembers: boolean;
  readonly includeRedundantMembers: boolean;
  readonly unreadThreadNotifications: boolean;
}

export interface CompiledFilter {
  /** Parsed `event_fields` paths, or undefined for "all fields". */
  eventFields: string[][] | undefined;
  eventFormat: 'client' | 'federation';
  presence: EventMatcher;
  accountData: EventMatcher;
  room: {
    matchesRoom(roomId: string): boolean;
    includeLeave: boolean;
    timeline: RoomEventMatcher;
    state: RoomEventMatcher;
    ephemeral: RoomEventMatcher;
    accountData: RoomEventMatcher;
  };
}

/** `m.room.*` → /^m\.room\..*$/: only `*` is special. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`, 's');
}

function typeMatcher(globs: string[] | undefined): ((type: string) => boolean) | undefined {
  if (globs === undefined) return undefined;
  const exact = new Set(globs.filter((g) => !g.includes('*')));
  const patterns = globs.filter((g) => g.includes('*')).map(globToRegExp);
  return (type) => exact.has(type) || patterns.some((re) => re.test(type));
}

function setOrUndefined(list: string[] | undefined): Set<string> | undefined {
  return list === undefined ? undefined : new Set(list);
}

export function compileEventFilter(f: EventFilterJson | undefined): EventMatcher {
  return compileRoomEventFilter(f);
}

export function compileRoomEventFilter(f: RoomEventFilterJson | EventFilterJson | undefined): RoomEventMatcher {
  const r = (f ?? {}) as RoomEventFilterJson;
  const types = typeMatcher(r.types);
  const notTypes = typeMatcher(r.not_types);
  const senders = setOrUndefined(r.senders);
  const notSenders = setOrUndefined(r.not_senders);
  const rooms = setOrUndefined(r.rooms);
  const notRooms = setOrUndefined(r.not_rooms);
  const containsUrl = r.contains_url;
  const matchesRoom = (roomId: string) => !notRooms?.has(roomId) && (rooms === undefined || rooms.has(roomId));
  return {
    limit: r.limit,
    lazyLoadMembers: r.lazy_load_members === true,
    includeRedundantMembers: r.include_redundant_members === true,
    unreadThreadNotifications: r.unread_thread_notifications === true,
    restrictsEvents:
      types !== undefined || notTypes !== undefined || senders !== undefined || notSenders !== undefined || containsUrl !== undefined,
    matchesRoom,
    matches(ev) {
      if (ev.roomId !== undefined && !matchesRoom(ev.roomId)) return false;
      if (ev.sender !== undefined) {
        if (notSenders?.has(ev.sender)) return false;
        if (senders !== undefined && !senders.has(ev.sender)) return false;
      }
      if (notTypes?.(ev.type)) return false;
      if (types !== undefined && !types(ev.type)) return false;
      if (containsUrl !== undefined) {
        const url = (ev.content as { url?: unknown } | undefined)?.url;
        if ((typeof url === 'string') !== containsUrl) return false;
      }
      return true;
    },
  };
}

/**
 * Split a dot-separated property path; `\.` is a literal dot and `\\` a backslash.
 * Spec: appendices.md "Dot-separated property paths".
 */
export function splitFieldPath(path: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && i + 1 < path.length) cur += path[++i];
    else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

export function compileFilter(f: FilterJson | undefined): CompiledFilter {
  const room = f?.room ?? {};
  const roomLevel = compileRoomEventFilter({ rooms: room.rooms, not_rooms: room.not_rooms });
  return {
    eventFields: f?.event_fields?.map(splitFieldPath),
    eventFormat: f?.event_format ?? 'client',
    presence: compileEventFilter(f?.presence),
    accountData: compileEventFilter(f?.account_data),
    room: {
      matchesRoom: roomLevel.matchesRoom,
      includeLeave: room.include_leave === true,
      timeline: compileRoomEventFilter(room.timeline),
      state: compileRoomEventFilter(room.state),
      ephemeral: compileRoomEventFilter(room.ephemeral),
      accountData: compileRoomEventFilter(room.account_data),
    },
  };
}

/** The filter used when a client gives none. */
export const DEFAULT_FILTER: CompiledFilter = compileFilter(undefined);

/**
 * Keep only the `event_fields` of an event (sync_filter.yaml "event_fields"). Paths
 * that are absent are skipped; a path through a non-object stops there.
 */
export function projectFields<T extends object>(event: T, paths: string[][] | undefined): Partial<T> {
  if (paths === undefined) return event;
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    let value: unknown = event;
    let found = true;
    for (const part of path) {
      if (!isPlainObject(value) || !Object.hasOwn(value, part)) {
        found = false;
        break;
      }
      value = value[part];
    }
    if (!found) continue;
    let dst = out;
    for (const part of path.slice(0, -1)) {
      const next = dst[part];
      dst = (isPlainObject(next) ? next : (dst[part] = {})) as Record<string, unknown>;
    }
    // When a parent path was already copied whole, this writes the value it already holds.
    dst[path[path.length - 1]] = value;
  }
  return out as Partial<T>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
