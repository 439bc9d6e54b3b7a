// What the sync module needs from its neighbours, as narrow interfaces. main.ts
// adapts the real implementations (the rooms helper's visibility check and client
// event serialiser, the stream counter); tests pass the same real pieces or small fakes.
import type { StoredEvent } from '../rooms/types.js';

/** Who is looking: visibility and `unsigned.transaction_id` depend on it. */
export interface Viewer {
  userId: string;
  deviceId: string;
}

/** A room event in the client format (client-server-api "Room event format"). */
export type ClientEvent = Record<string, unknown> & { event_id: string; type: string };

/** Serialises a stored event for a viewer (adds unsigned.age, transaction_id, redacted_because, prev_content). */
export type ClientEventFormatter = (ev: StoredEvent, viewer: Viewer, now: number) => ClientEvent | Promise<ClientEvent>;

/** History visibility: keeps the events `userId` may see, in the order given. */
export type VisibilityFilter = (userId: string, roomId: string, events: StoredEvent[]) => Promise<StoredEvent[]>;

/** The parts of storage/streamCounter.ts a writer of syncable data uses. */
export interface StreamPositions {
  readonly persisted: number;
  next(): number;
  finish(pos: number): void;
  run<T>(write: (pos: number) => Promise<T>): Promise<T>;
}

export type Clock = () => number;

/** Bundled aggregations (unsigned.m.relations) for a page of events, by event ID (messaging/aggregations.ts). */
export type RelationsBundler = (events: StoredEvent[], viewer: Viewer, now: number) => Promise<Map<string, Record<string, unknown>>>;

/** The unread counts of a room in /sync: unread_notifications and, for threaded clients, unread_thread_notifications. */
export interface UnreadCounter {
  forSync(userId: string, roomId: string, upTo: number, threaded: boolean): Promise<SyncUnreadCounts>;
  /** forSync's answer when it is known without waiting (counted and in memory); otherwise undefined. */
  forSyncNow?(userId: string, roomId: string, upTo: number, threaded: boolean): SyncUnreadCounts | undefined;
}

/** A joined room's count fields in /sync. */
export interface SyncUnreadCounts {
  unread_notifications: { notification_count: number; highlight_count: number };
  unread_thread_notifications?: Record<string, unknown>;
}

/** Told, before /sync is woken, that a user's m.read or m.read.private receipt moved ('' thread = unthreaded). */
export type ReadMarkerListener = (userId: string, roomId: string, eventId: string, thread: string) => Promise<void>;
