// The contract between the room service (writer of room data) and its readers
// (sync, pagination, membership queries, federation later). Readers depend on
// these interfaces only, never on the storage layout.
import type { JsonObject, Pdu, RefHashes, StateKey } from '@parley/federation/core/types';

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

/** A room event as the server holds it. */
export interface StoredEvent {
  eventId: string;
  roomId: string;
  /** The PDU; its content is already pruned if the event was redacted. */
  pdu: Pdu;
  /** Room versions 1/2: the hashes of the pairs in prev_events/auth_events (the PDU holds bare IDs). */
  refHashes?: RefHashes;
  /** Position in the global stream (the /sync token space). 0 for outliers. */
  stream: number;
  /** Set when a redaction was applied: the redaction event's ID. */
  redactedBy?: string;
  /** Set with redactedBy: the redaction event itself, for `unsigned.redacted_because`. */
  redactedBecause?: { eventId: string; pdu: Pdu };
  /**
   * For a state event that replaced an earlier one: that event's ID, sender and content
   * as they were when this event was written (`unsigned.prev_content`, `replaces_state`).
   */
  replaces?: { eventId: string; sender: string; content: JsonObject };
  /** The sending device's transaction, so that only that device sees `unsigned.transaction_id`. */
  txn?: { deviceId: string; txnId: string };
  /** Known to the server but not part of the room's timeline (e.g. fetched auth events). */
  outlier?: boolean;
  /**
   * Received over federation and rejected (server-server-api.md "Rejection"): never in the
   * timeline, never part of any state, never an auth event. The reason, for logs.
   */
  rejected?: string;
  /** Received over federation and soft-failed: in the graph, but not shown to clients nor built upon. */
  softFailed?: boolean;
}

export interface MemberRecord {
  membership: Membership;
  /** The m.room.member event that set this membership. */
  eventId: string;
  /** Its stream position. */
  stream: number;
  /** The user forgot the room (POST /forget); only meaningful when membership is leave/ban. */
  forgotten?: boolean;
}

/** Read access to rooms, for everything that is not the room service itself. */
export interface RoomReader {
  /** The room version, or undefined if this server does not know the room. */
  roomVersion(roomId: string): Promise<string | undefined>;
  getEvent(eventId: string): Promise<StoredEvent | undefined>;
  getEvents(eventIds: string[]): Promise<Array<StoredEvent | undefined>>;
  /**
   * A room's timeline between stream positions: events with `after < stream <= upTo`,
   * ascending ('f') or descending ('b'), at most `limit`.
   */
  timeline(roomId: string, opts: { after?: number; upTo?: number; dir: 'f' | 'b'; limit: number }): Promise<StoredEvent[]>;
  /** The room's current state: state key → event ID. */
  currentState(roomId: string): Promise<Map<StateKey, string>>;
  currentStateEvent(roomId: string, type: string, stateKey: string): Promise<StoredEvent | undefined>;
  /** The state after the given event (state key → event ID); undefined for unknown events. */
  stateAfter(eventId: string): Promise<Map<StateKey, string> | undefined>;
  /** The state before the given event. */
  stateBefore(eventId: string): Promise<Map<StateKey, string> | undefined>;
  /**
   * Selected entries of the state before or after each event (state key → event ID, absent
   * keys left out); undefined for unknown events. Much cheaper than stateAfter for a few keys.
   */
  stateEntriesAt(eventIds: string[], keys: StateKey[], at: 'before' | 'after'): Promise<Array<Map<StateKey, string> | undefined>>;
  /** The state of the room as of stream position `at` (after the last event with stream <= at). */
  stateAtStream(roomId: string, at: number): Promise<Map<StateKey, string>>;
  membership(roomId: string, userId: string): Promise<MemberRecord | undefined>;
  /** Every room the user has a membership in (any membership), with that membership. */
  roomsOfUser(userId: string): Promise<ReadonlyArray<{ roomId: string; member: MemberRecord }>>;
  /** Every user with a membership in the room (current state). */
  members(roomId: string): Promise<Array<{ userId: string; member: MemberRecord }>>;
  /** How many users are joined to the room (current state; kept in memory, no per-call read). */
  joinedCount(roomId: string): Promise<number>;
  /** The servers of the room's joined users, ours included (kept in memory). */
  joinedServers(roomId: string): Promise<readonly string[]>;
  /** Room events of all rooms with `after < stream <= upTo`, ascending, at most `limit`. */
  eventsSince(after: number, upTo: number, limit: number): Promise<StoredEvent[]>;
}
