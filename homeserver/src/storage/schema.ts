// Every keyspace of the database, its key layout and its value, in one place.
// Naming: <key>_<value>. Key parts: `u64` = 8 big-endian bytes, `str·` = UTF-8 + 0xFF
// separator (see keys.ts). Values are JSON unless noted. Short IDs are dense integers
// that stand for long identifiers inside keys.
//
// Bump SCHEMA_VERSION and add a step to migrations.ts whenever a layout changes.

export const SCHEMA_VERSION = 1;

export const KEYSPACES = {
  // ── meta ───────────────────────────────────────────────────────────────────
  /** name (utf8) → value: schema_version, stream_reserved (sync-token high-water mark), signing_key … */
  meta_value: 'meta',

  // ── identifiers ────────────────────────────────────────────────────────────
  /** room ID (utf8) → short room ID (number) */
  roomid_short: 'rid2s',
  /** short room u64 → room ID (string) */
  short_roomid: 's2rid',
  /** event ID (utf8) → short event ID (number) */
  eventid_short: 'eid2s',
  /** "type\0stateKey" (utf8) → short state key (number) */
  statekey_short: 'sk2s',
  /** short state key u64 → "type\0stateKey" */
  short_statekey: 's2sk',

  // ── rooms and events ───────────────────────────────────────────────────────
  /** short room u64 → RoomRecord (version, current state group, forward extremities, …) */
  shortroom_room: 'room',
  /** short event u64 → StoredEvent (the PDU as received/created — pruned when redacted — plus its placement) */
  shortevent_event: 'pdu',
  /** short room u64 · stream u64 → short event (number): a room's timeline in stream order */
  roomstream_event: 'tl',
  /** stream u64 → [short room, short event]: every room event in the global order (incremental /sync) */
  stream_roomevent: 'st',
  /** state group u64 → StateGroup (parent group + delta, or a full snapshot) */
  stategroup_delta: 'sg',
  /** short room u64 · short state key u64 → short event (number): the room's current state */
  roomstatekey_event: 'cs',
  /** short room u64 · user ID str· → MemberRecord: current membership of every user the room has seen */
  roomuser_member: 'rm',
  /** user ID str· · short room u64 → MemberRecord: the rooms of a user and their membership there */
  userroom_member: 'ur',
  /** user ID str· · device ID str· · txn ID str· → event ID (string): PUT /send idempotency */
  txn_eventid: 'txn',
  /** room alias (utf8) → { roomId, creator } */
  alias_room: 'alias',
  /** target event ID (utf8) → redaction event ID: redactions applied to stored events */
  eventid_redactedby: 'redby',

  // ── accounts ───────────────────────────────────────────────────────────────
  /** user ID (utf8) → UserRecord (password hash, admin, deactivated, created) */
  userid_user: 'user',
  /** user ID (utf8) → { displayname?, avatar_url? } */
  userid_profile: 'profile',
  /** user ID str· · device ID str· → DeviceRecord */
  userdevice_device: 'dev',
  /** sha256(access token) (32 bytes) → { userId, deviceId } — tokens are stored only as hashes */
  tokenhash_session: 'tok',
  /** user ID str· · filter ID str· → filter JSON */
  userfilter_filter: 'filter',

  // ── per-user and per-room streams ──────────────────────────────────────────
  /** user ID str· · room ID str· ('' = global) · type str· → { content, stream } */
  useraccountdata_data: 'ad',
  /** user ID str· · stream u64 → { roomId, type }: account data changes in stream order */
  userstream_accountdata: 'ads',
  /** short room u64 · receipt type str· · thread str· · user ID str· → { eventId, ts, stream } */
  receipt_data: 'rcpt',
  /** short room u64 · stream u64 → receipt key (Buffer as base64): receipts in stream order */
  roomstream_receipt: 'rcpts',
} as const;

export type KeyspaceName = keyof typeof KEYSPACES;
