// Every keyspace of the database, its key layout and its value, in one place.
// Naming: <key>_<value>. Key parts: `u64` = 8 big-endian bytes, `str·` = UTF-8 + 0xFF
// separator (see keys.ts). Values are JSON unless noted. Short IDs are dense integers
// that stand for long identifiers inside keys.
//
// Bump SCHEMA_VERSION and add a step to migrations.ts whenever a layout changes.

export const SCHEMA_VERSION = 1;

export const KEYSPACES = {
  // ── meta ───────────────────────────────────────────────────────────────────
  /** name (utf8) → value: schema_version, stream_reserved (sync-token high-water mark), signing_key, user_id_seq (last generated numeric localpart) … */
  meta_value: 'meta',

  // ── identifiers ────────────────────────────────────────────────────────────
  /** room ID (utf8) → short room ID (number) */
  roomid_short: 'rid2s',
  /** short room u64 → room ID (string) */
  short_roomid: 's2rid',
  /** event ID (utf8) → short event ID (number) */
  eventid_short: 'eid2s',
  /** short event u64 → event ID (string): turns state maps of short IDs back into event IDs */
  short_eventid: 's2eid',
  /** "type\0stateKey" (utf8) → short state key (number) */
  statekey_short: 'sk2s',
  /** short state key u64 → "type\0stateKey" */
  short_statekey: 's2sk',

  // ── rooms and events ───────────────────────────────────────────────────────
  /** short room u64 → RoomRecord (version, current state group, forward extremities, …) */
  shortroom_room: 'room',
  /**
   * short event u64 → EventRecord: StoredEvent (the PDU as received/created — pruned when
   * redacted) plus its placement (short room, state groups before/after, replaced state).
   */
  shortevent_event: 'pdu',
  /** short room u64 · stream u64 → short event (number): a room's timeline in stream order */
  roomstream_event: 'tl',
  /**
   * short room u64 · depth u64 → short event (number): history fetched from other servers (backfill), older
   * than every event of roomstream_event. Such an event's stream position is −depth (Synapse's negative
   * stream orderings): depth 1 is just before the room's first local position, higher is older. Never in
   * stream_roomevent, so incremental /sync never sees it; /messages walks on into it (storage/timelineRepo.ts)
   */
  roombackfill_event: 'tlback',
  /**
   * short room u64 · stream u64 (a remote event placed with prev events this server could not get) →
   * TimelineGap { missing: event IDs, low, high }: a hole in the history right below that event. Stream
   * positions below it were reserved when the event was placed (never in stream_roomevent); history fetched
   * by backfill fills [low, high] from the top (roomstream_event only). Deleted once the hole is closed.
   */
  roomstream_gap: 'tlgap',
  /** stream u64 → [short room, short event]: every room event in the global order (incremental /sync) */
  stream_roomevent: 'st',
  /**
   * state group u64 → StateGroupRecord { room, parent?, level, set: [short state key, short event]…
   * flattened, remove: short state keys }: a delta on `parent`, or a full snapshot when level = 0
   */
  stategroup_delta: 'sg',
  /** short room u64 · short state key u64 → short event (number): the room's current state */
  roomstatekey_event: 'cs',
  /** short room u64 · user ID str· → MemberRecord: current membership of every user the room has seen */
  roomuser_member: 'rm',
  /** user ID str· · short room u64 → MemberRecord: the rooms of a user and their membership there */
  userroom_member: 'ur',
  /**
   * user ID str· · device ID str· · room ID str· · endpoint str· · txn ID str· → event ID (string):
   * PUT /send and /redact idempotency; endpoint is `send:<type>` or `redact:<event ID>`
   */
  txn_eventid: 'txn',
  /** room alias (utf8) → { roomId, creator } */
  alias_room: 'alias',
  /** short room u64 · room alias str· → true: the local aliases of a room */
  roomalias_alias: 'ralias',
  /** target event ID (utf8) → redaction event ID: redactions applied to stored events */
  eventid_redactedby: 'redby',
  /** room ID (utf8) → true: rooms published in the room directory (createRoom visibility: public) */
  roomid_published: 'pubroom',
  /**
   * parent event ID str· · rel_type str· · stream u64 → RelationRecord { eventId, type, sender, key? }:
   * events whose content.m.relates_to points at the parent (relations, threads, edits); deleted
   * when the child is redacted
   */
  parentrel_child: 'rel',
  /**
   * parent event ID str· · rel type str· · depth u64 (−stream of a backfilled child, as roombackfill_event)
   * → { eventId, type, sender, key? }: parentrel_child for children fetched by backfill (negative positions)
   */
  parentrel_backfillchild: 'relback',
  /** parent event ID str· · sender str· · event type str· · annotation key str· → child event ID: duplicate-reaction check */
  annotation_event: 'annot',
  /** short room u64 · stream u64 → thread root event ID: every m.thread reply; a root lists at its newest reply (/threads) */
  roomstream_threadroot: 'thract',
  /**
   * short room u64 · origin_server_ts u64 · stream u64 → short event (number): /timestamp_to_event; a backfilled
   * event (negative position) is under stream 0 · short event u64
   */
  roomts_event: 'tsidx',
  /** report time u64 · report ID str· → ReportRecord { roomId, eventId?, reporter, reason?, score? }: /report, for admins */
  report_data: 'report',

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
  /** user ID (utf8) → { since }: deactivated users still to be removed from their rooms (resumed at start) */
  userid_pendingdeactivation: 'deactq',
  /** user ID (utf8) → { ts }: users erased on deactivation (their events are served redacted to later joiners) */
  userid_erased: 'erased',

  // ── admin (admin/; storage/registrationTokensRepo.ts, storage/roomPurge.ts) ─
  /** registration token (utf8) → RegistrationTokenRecord { uses_allowed, completed, expiry_time }: m.login.registration_token */
  regtoken_data: 'regtok',
  /** room ID (utf8) → { by, ts }: rooms blocked by an admin (Synapse's delete-room `block`); joins are refused */
  roomid_blocked: 'roomblock',
  /** local user ID (utf8) → { roomId, ts }: the user's server notices room (serverNotices/; storage/serverNoticesRepo.ts) */
  userid_servernoticeroom: 'snroom',

  // ── per-user and per-room streams ──────────────────────────────────────────
  /** user ID str· · room ID str· ('' = global) · type str· → { content, stream } */
  useraccountdata_data: 'ad',
  /** user ID str· · stream u64 → { roomId, type }: account data changes in stream order (one entry per key: the latest) */
  userstream_accountdata: 'ads',
  /** room ID str· · receipt type str· · thread str· ('' = unthreaded) · user ID str· → { eventId, eventStream, ts, stream } */
  receipt_data: 'rcpt',
  /** room ID str· · stream u64 → { type, thread, userId }: receipts in stream order (one entry per receipt: the latest) */
  roomstream_receipt: 'rcpts',

  // ── media ──────────────────────────────────────────────────────────────────
  /**
   * local media ID (utf8) → MediaRecord { uploader, created_ts, authenticated, content_type?,
   * upload_name?, sha256?, size?, sniffed_type?, unused_expires_at?, quarantined? }; sha256 is
   * absent while an async upload (POST /create) is pending. Bytes live in the media store.
   */
  mediaid_media: 'media',
  /** user ID str· · created_ts u64 · media ID str· → true: a user's uploads in time order (admin API) */
  usermedia_media: 'umedia',
  /** user ID str· · media ID str· → unused_expires_at (number): created IDs still waiting for content */
  userpending_media: 'mpend',
  /**
   * media ID str· · method str· · width u64 · height u64 · 'a'|'s' (animated, static) str· →
   * ThumbnailRecord { sha256, content_type, size, width, height }: generated thumbnails
   */
  mediathumb_thumb: 'mthumb',
  /** URL str· · fetched_ts u64 → { og, expires_ts }: URL previews, kept per fetch for `ts` queries */
  urlts_preview: 'urlprev',

  // ── end-to-end encryption ──────────────────────────────────────────────────
  /** user ID str· · device ID str· → DeviceKeys: a device's identity keys exactly as it signed and uploaded them */
  userdevice_devicekeys: 'e2dk',
  /**
   * user ID str· · device ID str· · algorithm str· · upload seq u64 · key ID str· → { algorithm, keyId, key }:
   * unclaimed one-time keys; a claim takes the lowest seq (upload order)
   */
  userdevicealgseq_otk: 'e2otk',
  /** user ID str· · device ID str· · "algorithm:key ID" str· → { seq, key }: the same keys by ID (duplicate checks) */
  userdevicekeyid_otk: 'e2otkid',
  /** user ID str· · device ID str· · algorithm str· → { algorithm, keyId, key, used }: the device's fallback key per algorithm */
  userdevicealg_fallback: 'e2fb',
  /** user ID str· · usage str· ('master' | 'self_signing' | 'user_signing') → CrossSigningKey as uploaded */
  userusage_crosssigning: 'e2xs',
  /**
   * target user ID str· · target key ID str· (device ID or cross-signing public key) · signer user ID str· ·
   * signer key ID str· → StoredSignature: signatures uploaded with /keys/signatures/upload
   */
  targetsigner_signature: 'e2sig',
  /** stream u64 · user ID str· → { userId, selfOnly? }: device-list / cross-signing changes in stream order */
  stream_devicelist: 'e2dl',
  /**
   * user ID (utf8) → stream position (number) of the user's latest device-list change that others see:
   * the `stream_id` of GET /_matrix/federation/v1/user/devices and of m.device_list_update EDUs
   */
  userid_devicelistpos: 'e2dlpos',
  /** user ID str· · device ID str· · stream u64 → { pos, event }: queued to-device messages of a device */
  userdevicestream_todevice: 'e2td',
  /** sender user ID str· · sender device ID str· · txn ID str· → stream position: /sendToDevice idempotency */
  senderdevicetxn_todevice: 'e2tdtx',
  /**
   * user ID str· · device ID str· · sync token u64 → last delivered stream position: a /sync response
   * that carried only part of the queue (acknowledging that token deletes only that far)
   */
  userdevicetoken_partialdelivery: 'e2tdp',
  /** user ID str· · version u64 → BackupVersion (deleted versions stay as tombstones so numbers are never reused) */
  userversion_backup: 'e2bv',
  /** user ID str· · version u64 · room ID str· · session ID str· → { roomId, sessionId, data: KeyBackupData } */
  userversionroomsession_backupkey: 'e2bk',
  /** user ID (utf8) → DehydratedDevice { deviceId, deviceData } (MSC3814) */
  userid_dehydrateddevice: 'e2dh',

  // ── push (push/; storage/pushRulesRepo.ts, pushersRepo.ts, notificationsRepo.ts) ──
  /** user ID (utf8) → StoredPushRules { rules: kind → [PushRule] (most important first), defaults: "kind/ruleId" → { enabled?, actions? } } */
  userid_pushrules: 'pushrules',
  /** user ID str· · app ID str· · pushkey str· → PusherRecord (as set through /pushers/set, plus its creation time and device) */
  userpusher_pusher: 'pusher',
  /** app ID str· · pushkey str· · user ID str· → true: who else has this pushkey (append: false, rejected pushkeys) */
  apppushkey_user: 'pusherkey',
  /** user ID str· · app ID str· · pushkey str· → stream position (number) of the last notification the pusher handled */
  userpusher_sent: 'pushersent',
  /**
   * user ID str· · stream u64 → {} when the user's notification is the event's common one
   * (stream_notificationevent), else { highlight, actions } (the user's own); rows written
   * before that split hold the whole NotificationRecord { roomId, eventId, thread, highlight, actions, ts }.
   * GET /notifications, pushers.
   */
  userstream_notification: 'notif',
  /** stream u64 → { roomId, eventId, thread, ts, highlight, actions }: what an event's notifications share, written once per event */
  stream_notificationevent: 'notifev',
  /** user ID str· · room ID str· · stream u64 → { thread, highlight }: a room's notifications, counted when the counts are loaded and when a receipt moves */
  userroomstream_notification: 'notifroom',
  /**
   * user ID str· · room ID str· → ReadPositions { readTo, threads: thread ('main' | root event ID) → { readTo } }:
   * how far the user has read the room; written when a position moves and with the user's first
   * notification in the room (so their rooms with notifications can be listed). The unread counts
   * are derived from these and userroomstream_notification (push/countsCache.ts); older rows also
   * carry counts { n, h } per thread, which are ignored. The evaluation cursor (every room event
   * up to it has been evaluated) is meta_value 'push_processed'.
   */
  userroom_notificationcounts: 'notifcount',

  // ── federation: outbound plumbing (storage/remoteKeysRepo.ts, federationQueueRepo.ts) ──
  /** server name (utf8) → StoredServerKeys { serverName, keys: keyId → { key, validUntilTs?, expiredTs? }, document?, fetchedTs }: the key ring's cache */
  servername_keys: 'fedkeys',
  /** destination str· · seq u64 → { ts, item: QueueItem }: the outgoing queue of one destination, in send order */
  destseq_queueitem: 'fedq',
  /** destination (utf8) → last seq ever assigned (number): kept after acks so seqs never repeat */
  destination_lastseq: 'fedqseq',
  /** destination (utf8) → RetryState { failures, retryAtTs }: backoff, absent when healthy */
  destination_retry: 'fedretry',
  /**
   * local user ID (utf8) → SentDeviceList { streamId, devices: device ID → digest, signing?: digest }: what
   * other servers were last told of the user's devices (m.device_list_update stream_id/prev_id chain) and
   * cross-signing keys (m.signing_key_update); storage/deviceListOutboxRepo.ts
   */
  userid_sentdevicelist: 'fedsentdl',
  // meta_value 'federation_outbox' (storage/federationOutboxRepo.ts): stream position up to which every
  // local room event is in the queues of its destinations (the restart catch-up resumes after it).
  // meta_value 'federation_devicelist_outbox' (storage/deviceListOutboxRepo.ts): stream position up to which
  // every local device-list change has been announced (the startup replay resumes after it).

  // ── federation: inbound (federation/serve/, federation/ingest/; storage/remoteDevicesRepo.ts, openIdRepo.ts, txnResultsRepo.ts) ──
  /**
   * remote user ID (utf8) → RemoteDeviceList { streamId, devices: device ID → { keys?, displayName? }, masterKey?,
   * selfSigningKey?, stale?, updatedTs }: the cache of another server's user's devices (m.device_list_update, user/devices)
   */
  userid_remotedevices: 'fedrdev',
  /** sha256(token) hex (utf8) → { userId, expiresTs }: OpenID tokens (request_token), looked up by openid/userinfo */
  tokenhash_openid: 'openid',
  /** origin str· · txn ID str· → { ts, pdus: event ID → { error? } }: answers to PUT /send, for retried transactions */
  origintxn_result: 'fedtxn',
  /** ts u64 · origin str· · txn ID str· → true: the same answers in age order, for pruning */
  tsorigintxn_result: 'fedtxnts',
  /**
   * origin str· · event ID str· → PendingPdu { pdu (wire form), firstTs, attempts, nextTs }: PDUs of an acknowledged
   * transaction that could not be processed because filling their holes failed for a passing reason (the origin
   * unreachable, 5xx, 429); taken in again later (federation/ingest/pduRetrier.ts)
   */
  originevent_pendingpdu: 'fedpend',
  /**
   * room ID (utf8) → PartialStateRecord { joinEventId, serversInRoom, roomVersion, ts }: rooms joined with
   * partial state (send_join omit_members, MSC3706) whose full state is still being fetched; removed when
   * the background resync completes (storage/partialStateRepo.ts, federation/outbound/partialStateResync.ts)
   */
  roomid_partialstate: 'partst',

  // ── presence (presence/; storage/presenceRepo.ts) ─────────────────────────
  /** user ID (utf8) → PresenceRecord { state, statusMsg?, lastActiveTs, lastSyncTs, currentlyActive, stream } */
  userid_presence: 'pres',
  /** stream u64 → user ID (string): presence changes in stream order (one entry per user: the latest) */
  stream_presence: 'press',

  // ── search (search/; storage/searchRepo.ts) ───────────────────────────────
  /**
   * short room u64 · token bytes · 0xFF · stream i64 (negative: history backfilled below the timeline) → Posting { e: event ID, f: field ('b' body | 'n' name
   * | 't' topic), n: occurrences, l: tokens in the field }: the full-text index; a prefix query ranges over
   * the token bytes without the separator. The indexing cursor (every room event up to it is indexed,
   * redactions applied) is meta_value 'search_indexed'.
   */
  roomtokenstream_posting: 'srch',
  /** stream u64 → { r: short room, t: tokens }: what an indexed event put in the index, to take it out on redaction */
  stream_searchdoc: 'srchdoc',
  /** short room u64 · depth u64 (stream −depth, as roombackfill_event) → { r, t }: the same for backfilled history */
  roombackfill_searchdoc: 'srchdocb',
  /**
   * event ID str· → 1: history placed by backfill (below the timeline or into a gap), written in the same batch
   * by storage/timelineRepo.ts; such history is never in stream_roomevent, which the indexing cursor follows.
   * Deleted in the batch that indexes it, so a crash in between only delays its indexing.
   */
  historyevent_unindexed: 'srchhist',
} as const;

export type KeyspaceName = keyof typeof KEYSPACES;
