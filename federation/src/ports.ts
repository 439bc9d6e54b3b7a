// Ports: what the federation layer needs from the homeserver that hosts it.
// The homeserver implements these (LevelDB, its signing key); the federation
// code never imports homeserver modules.
import type { JsonObject, Pdu } from './core/types.js';
import type { SigningKey } from './signing/ed25519Key.js';

// ---------------------------------------------------------------- identity

/** A key we no longer sign with but still publish, so old events stay verifiable. */
export interface OldVerifyKey {
  keyId: string;
  /** Unpadded base64 of the raw 32-byte public key. */
  publicKeyBase64: string;
  /** When we stopped using it (ms). */
  expiredTs: number;
}

/** This server's name and keys (the rooms service creates and persists the key). */
export interface LocalServerIdentity {
  readonly serverName: string;
  /** The key used for requests, events and our key documents. */
  readonly signingKey: SigningKey;
  /** Retired keys, published under `old_verify_keys`. */
  readonly oldVerifyKeys?: readonly OldVerifyKey[];
}

// ---------------------------------------------------------------- remote keys

/** One remote verify key as the key ring trusts it. */
export interface StoredVerifyKey {
  /** Unpadded base64 public key. */
  key: string;
  /**
   * Current keys: the published `valid_until_ts`, already capped at receipt + 7 days
   * (v5-signing-requirements). Old keys: undefined.
   */
  validUntilTs?: number;
  /** Old keys only: `expired_ts` from `old_verify_keys`. */
  expiredTs?: number;
}

/** Everything we know about one server's keys. */
export interface StoredServerKeys {
  serverName: string;
  /** keyId → key. Keys are never dropped: old events still need them. */
  keys: Record<string, StoredVerifyKey>;
  /**
   * The newest verified `/_matrix/key/v2/server` document, exactly as the origin
   * signed it (other servers' signatures removed); a notary serves it on.
   */
  document?: JsonObject;
  /** When `document` was received (ms). */
  fetchedTs: number;
}

/** Durable cache of remote servers' keys. Writes replace the whole record of a server. */
export interface RemoteKeyStore {
  load(serverName: string): Promise<StoredServerKeys | undefined>;
  save(record: StoredServerKeys): Promise<void>;
}

// ---------------------------------------------------------------- outbound queue

/** An EDU as it goes into a transaction. */
export interface Edu {
  edu_type: string;
  content: JsonObject;
}

/** What is queued for a destination: a PDU by event ID (fetched when sent), or an EDU inline. */
export type QueueItem = { kind: 'pdu'; eventId: string } | { kind: 'edu'; edu: Edu };

/** A persisted queue entry. `seq` increases per destination and survives restarts. */
export interface QueueEntry {
  seq: number;
  /** Enqueue time (ms); part of the transaction ID so IDs stay unique if the store is reset. */
  ts: number;
  item: QueueItem;
}

/** Backoff state of a destination, kept across restarts (Synapse's `destinations` table). */
export interface RetryState {
  /** Consecutive failures; 0 means healthy. */
  failures: number;
  /** No attempt before this time (ms). */
  retryAtTs: number;
}

/**
 * One ordered queue per destination, durable. `append` must be atomic per call and
 * assign consecutive, ever-increasing `seq`s; `peek` returns the oldest entries in
 * order; `ack` deletes every entry with `seq <= upToSeq`.
 */
export interface DestinationQueueStore {
  append(destination: string, items: readonly QueueItem[], ts: number): Promise<void>;
  peek(destination: string, limit: number): Promise<QueueEntry[]>;
  ack(destination: string, upToSeq: number): Promise<void>;
  /** Destinations with queued entries (read on start to resume sending). */
  pendingDestinations(): Promise<string[]>;
  getRetry(destination: string): Promise<RetryState | undefined>;
  /** `undefined` clears it (destination healthy). */
  setRetry(destination: string, state: RetryState | undefined): Promise<void>;
}

/** Where queued event IDs are turned back into PDUs (the homeserver's event store). */
export interface PduSource {
  /** The federation form of each event found; missing IDs (purged, unknown) are skipped. */
  getPdus(eventIds: readonly string[]): Promise<Map<string, Pdu>>;
}

// ---------------------------------------------------------------- inbound (serving routes)
// Implemented by the homeserver (homeserver/src/federation/serve/). Methods throw
// api/errors.ts FederationError for answers other than success (403, 404, 400 …).

/** PUT /send: the PDUs go to the room graph, the EDUs to their services. */
export interface InboundTransactionPort {
  /** A result per event ID: `{}` when accepted (or soft-failed), `{error}` otherwise. */
  ingestPdus(origin: string, pdus: unknown[]): Promise<Map<string, { error?: string }>>;
  /**
   * Optional: ingestPdus, writing the transaction's answer (for TransactionResultStore) in the
   * same atomic write as its last PDUs — one durable write per transaction, and never an answer
   * without the PDUs it acknowledges. `kept` says what became of it: 'stored' (durable with the
   * PDUs); 'separate' (not written: the PDUs went in several writes, or `answer` returned
   * undefined — the caller stores it itself); 'unkept' (a write of the transaction failed: the
   * answer must not be kept, so that a retry is ingested again).
   */
  ingestPdusKeepingAnswer?(origin: string, pdus: unknown[], keep: AnswerToKeep): Promise<{ results: Map<string, { error?: string }>; kept: 'stored' | 'separate' | 'unkept' }>;
  /** Each EDU is dispatched by type; unknown types and bad content are ignored (EDUs are best-effort). */
  handleEdus(origin: string, edus: Edu[]): Promise<void>;
}

/** A /send answer to write with the transaction's PDUs (InboundTransactionPort.ingestPdusKeepingAnswer). */
export interface AnswerToKeep {
  txnId: string;
  ts: number;
  /** The answer for every PDU's result; undefined when it cannot be kept yet (the caller keeps it later). */
  answer(results: ReadonlyMap<string, { error?: string }>): JsonObject | undefined;
}

/** Reading the room graph for another server (each call checks that `origin` may see it). */
export interface RoomEventsPort {
  event(origin: string, eventId: string): Promise<Pdu>;
  /** The state before `eventId` and the auth chain of that state. */
  stateIds(origin: string, roomId: string, eventId: string): Promise<{ pduIds: string[]; authChainIds: string[] }>;
  state(origin: string, roomId: string, eventId: string): Promise<{ pdus: Pdu[]; authChain: Pdu[] }>;
  eventAuth(origin: string, roomId: string, eventId: string): Promise<Pdu[]>;
  backfill(origin: string, roomId: string, from: string[], limit: number): Promise<Pdu[]>;
  missingEvents(origin: string, roomId: string, req: { earliest: string[]; latest: string[]; limit: number; minDepth: number }): Promise<Pdu[]>;
}

export type HandshakeMembership = 'join' | 'leave' | 'knock';

/** The join / leave / knock handshakes and invites, as the resident (or invited) server. */
export interface MembershipHandshakePort {
  /** A template event for `userId` (of `origin`); `versions` are the room versions the caller supports (join/knock). */
  make(origin: string, roomId: string, userId: string, membership: HandshakeMembership, versions: string[] | undefined): Promise<{ roomVersion: string; event: JsonObject }>;
  sendJoin(origin: string, roomId: string, eventId: string, event: unknown, omitMembers: boolean): Promise<JsonObject>;
  sendLeave(origin: string, roomId: string, eventId: string, event: unknown): Promise<void>;
  sendKnock(origin: string, roomId: string, eventId: string, event: unknown): Promise<JsonObject>;
  /** Co-sign an invite of one of our users and remember it; returns the signed event. */
  invite(origin: string, roomId: string, eventId: string, roomVersion: string, event: unknown, inviteRoomState: unknown[]): Promise<Pdu>;
}

/** Profile and alias questions about our users and aliases (query/profile, query/directory). */
export interface QueryPort {
  profile(userId: string, field: string | undefined): Promise<JsonObject>;
  directory(alias: string): Promise<{ room_id: string; servers: string[] }>;
}

/** E2EE and account questions about our users (user/devices, user/keys/*, openid). */
export interface UserQueryPort {
  devices(userId: string): Promise<JsonObject>;
  queryKeys(deviceKeys: Record<string, string[]>): Promise<JsonObject>;
  claimKeys(oneTimeKeys: Record<string, Record<string, string>>): Promise<JsonObject>;
  /** The user an OpenID token was issued to; undefined when unknown or expired. */
  openIdUser(accessToken: string): Promise<string | undefined>;
}

/** The published room directory and space summaries, for other servers (publicRooms, hierarchy). */
export interface RoomDirectoryPort {
  /** GET/POST publicRooms: this server's published rooms, paginated and filtered like the client API. */
  publicRooms(query: {
    limit?: number;
    since?: string;
    filter?: { generic_search_term?: string; room_types?: Array<string | null> };
    includeAllNetworks?: boolean;
    thirdPartyInstanceId?: string;
  }): Promise<JsonObject>;
  /** GET hierarchy/{roomId}: `{room, children, inaccessible_children}` as `origin` may see it. */
  hierarchy(origin: string, roomId: string, suggestedOnly: boolean): Promise<JsonObject>;
}

/**
 * Answers to PUT /send kept durably for a while, so a transaction retried after our restart
 * gets its first answer (server-server-api.md "Transactions": a retried transaction is
 * recognised by origin and txnId). `put` is durable when it resolves.
 */
export interface TransactionResultStore {
  get(origin: string, txnId: string): Promise<JsonObject | undefined>;
  put(origin: string, txnId: string, answer: JsonObject, ts: number): Promise<void>;
  /** Forget answers stored before `beforeTs`. */
  prune(beforeTs: number): Promise<void>;
}
