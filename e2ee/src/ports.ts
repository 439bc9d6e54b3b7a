// What the key server needs from the rest of the homeserver, as narrow
// interfaces. The homeserver implements E2eeStore over its database
// (homeserver/src/storage/e2eeRepo.ts) and adapts the others in main.ts.
// Every write method of E2eeStore is ONE atomic, durable batch.
import type {
  AlgorithmKey,
  BackupVersion,
  CrossSigningKey,
  DehydratedDevice,
  DeviceKeys,
  FallbackKey,
  KeyBackupData,
  KeyUsage,
  KeyValue,
  StoredSignature,
  ToDeviceEvent,
} from './types.js';

/** One key wanted by /keys/claim, and what was found for it. */
export interface ClaimRequest {
  userId: string;
  deviceId: string;
  algorithm: string;
}
export interface ClaimedKey extends AlgorithmKey {
  fallback: boolean;
}

export interface KeyUploadWrite {
  /** New identity keys of the device. */
  deviceKeys?: DeviceKeys;
  /** New one-time keys, all tagged with `otkSeq` (claims take the lowest first). */
  oneTimeKeys: AlgorithmKey[];
  otkSeq: number;
  /** Replacements of the device's fallback key per algorithm. */
  fallbackKeys: FallbackKey[];
  /** Stream position of the device-list change this upload makes, if any. */
  changePos?: number;
}

/**
 * A user's device list or cross-signing keys changed at a stream position. `selfOnly`:
 * only the user may see the change (their signatures on other users' keys).
 */
export interface DeviceListChange {
  userId: string;
  pos: number;
  selfOnly?: boolean;
}

/** A message for one device, at stream position `pos`. */
export interface InboxEntry {
  pos: number;
  event: ToDeviceEvent;
}

export interface E2eeStore {
  // ── device keys, one-time and fallback keys ────────────────────────────────
  /** The identity keys of the given devices of a user (all when `deviceIds` is undefined). */
  deviceKeys(userId: string, deviceIds?: string[]): Promise<Map<string, DeviceKeys>>;
  /** Already stored one-time keys among `ids` (`<algorithm>:<key ID>`). */
  oneTimeKeys(userId: string, deviceId: string, ids: string[]): Promise<Map<string, KeyValue>>;
  /** Unclaimed one-time keys per algorithm. */
  oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>>;
  fallbackKeys(userId: string, deviceId: string): Promise<Map<string, FallbackKey>>;
  /**
   * A device's one-time key counts and fallback keys if they are in memory and it has no
   * queued to-device message and no partial-delivery record; otherwise undefined (the
   * methods above then answer). Lets a woken /sync of a quiet device skip their reads.
   * While they are unchanged, the same two objects are returned: a change replaces them,
   * never alters them in place (what is derived from them is kept by their identity).
   */
  quietDevice?(userId: string, deviceId: string): { otkCounts: Readonly<Record<string, number>>; fallbacks: ReadonlyMap<string, FallbackKey> } | undefined;
  writeKeyUpload(userId: string, deviceId: string, w: KeyUploadWrite): Promise<void>;
  /**
   * For each request, remove and return the device's oldest one-time key of the
   * algorithm, or else return its fallback key and mark it used; undefined when
   * there is neither. One batch for all. The caller serialises claims per device.
   */
  claimKeys(requests: ClaimRequest[]): Promise<Array<ClaimedKey | undefined>>;

  // ── cross-signing ──────────────────────────────────────────────────────────
  crossSigningKeys(userId: string): Promise<Partial<Record<KeyUsage, CrossSigningKey>>>;
  writeCrossSigningKeys(userId: string, keys: Partial<Record<KeyUsage, CrossSigningKey>>, changePos: number): Promise<void>;
  /** Every uploaded signature on any key of `targetUserId`. */
  signaturesOn(targetUserId: string): Promise<StoredSignature[]>;
  /** Store signatures and the device-list changes they cause. */
  writeSignatures(sigs: StoredSignature[], changes: DeviceListChange[]): Promise<void>;

  // ── device lists ───────────────────────────────────────────────────────────
  /** Users whose device list changed at positions in (after, upTo], ascending. */
  deviceListChanges(after: number, upTo: number): Promise<DeviceListChange[]>;
  /** Remove every E2EE trace of the devices; record a device-list change at `changePos` when given. */
  deleteDevices(userId: string, deviceIds: string[], changePos: number | undefined): Promise<void>;
  /** Record a device-list change that stores nothing else (e.g. a display name changed). */
  writeDeviceListChange(userId: string, pos: number): Promise<void>;

  // ── to-device ──────────────────────────────────────────────────────────────
  /** Whether the sender's device already used this transaction ID. */
  hasToDeviceTxn(sender: string, senderDevice: string, txnId: string): Promise<boolean>;
  /** Queue the messages and remember the transaction. */
  writeToDevice(
    txn: { sender: string; senderDevice: string; txnId: string },
    pos: number,
    messages: Array<{ userId: string; deviceId: string; event: ToDeviceEvent }>,
  ): Promise<void>;
  /** Queued messages of a device with after < position <= upTo, oldest first (after defaults to 0). */
  inbox(userId: string, deviceId: string, upTo: number, limit: number, after?: number): Promise<InboxEntry[]>;
  /** Delete queued messages with position <= through, and delivery records with token < keepFrom. */
  ackInbox(userId: string, deviceId: string, through: number, keepFrom: number): Promise<void>;
  /** The last message position delivered in a response whose next_batch was `token`, if that response was cut short. */
  partialDelivery(userId: string, deviceId: string, token: number): Promise<number | undefined>;
  writePartialDelivery(userId: string, deviceId: string, token: number, through: number): Promise<void>;

  // ── key backup ─────────────────────────────────────────────────────────────
  /** The newest version that is not deleted. */
  latestBackup(userId: string): Promise<BackupVersion | undefined>;
  /** A version, including deleted ones (as tombstones). */
  backup(userId: string, version: number): Promise<BackupVersion | undefined>;
  /** The highest version number ever given to the user (0 if none). */
  lastBackupVersion(userId: string): Promise<number>;
  putBackup(userId: string, info: BackupVersion): Promise<void>;
  /** Mark the version deleted and drop its keys. */
  deleteBackup(userId: string, version: number): Promise<void>;
  backupKeys(userId: string, version: number, roomId?: string, sessionId?: string): Promise<Array<{ roomId: string; sessionId: string; data: KeyBackupData }>>;
  /** Put and delete session keys and store the version's new etag/count, in one batch. */
  writeBackupKeys(
    userId: string,
    info: BackupVersion,
    puts: Array<{ roomId: string; sessionId: string; data: KeyBackupData }>,
    dels: Array<{ roomId: string; sessionId: string }>,
  ): Promise<void>;

  // ── dehydrated devices (MSC3814) ───────────────────────────────────────────
  dehydratedDevice(userId: string): Promise<DehydratedDevice | undefined>;
  putDehydratedDevice(userId: string, device: DehydratedDevice | undefined): Promise<void>;
}

/** The accounts service's devices, as the key server sees them. */
export interface DeviceDirectory {
  /** The user's devices (empty for an unknown user). */
  devices(userId: string): Promise<Array<{ deviceId: string; displayName?: string }>>;
  /** Create a device without an access token (dehydrated devices); leaves an existing one as it is. */
  createDevice?(userId: string, deviceId: string, displayName: string | undefined): Promise<void>;
  /** Delete devices through the accounts service (which calls back devicesDeleted). */
  deleteDevices?(userId: string, deviceIds: string[]): Promise<void>;
}

/** Membership as stored by the room service (a structural subset of the homeserver's RoomReader). */
export interface MembershipReader {
  roomsOfUser(userId: string): Promise<ReadonlyArray<{ roomId: string; member: { membership: string; stream: number } }>>;
  members(roomId: string): Promise<Array<{ userId: string; member: { membership: string; stream: number } }>>;
}

/** Which rooms may have had membership changes after a stream position (false only when certainly not). */
export interface MembershipChangeHints {
  mayHaveChangedSince(roomId: string, since: number): boolean | Promise<boolean>;
}

/** The global stream counter (storage/streamCounter.ts). */
export interface StreamPositions {
  readonly persisted: number;
  run<T>(write: (pos: number) => Promise<T>): Promise<T>;
}

/**
 * Wakes held /sync requests (the sync module's SyncNotifier fits). Called with the
 * change's position before the position is finished.
 */
export interface ChangeNotifier {
  notify(pos: number, changed: { users?: Iterable<string>; rooms?: Iterable<string> }): void;
}

/**
 * Keys of users on other servers, over federation. Until federation lands the
 * homeserver passes `unreachableRemoteKeys`: every remote server lands in `failures`,
 * as Synapse reports a server it cannot reach.
 */
export interface RemoteKeysPort {
  queryKeys(
    server: string,
    deviceKeys: Record<string, string[]>,
    timeoutMs: number,
  ): Promise<
    | {
        device_keys?: Record<string, Record<string, DeviceKeys>>;
        master_keys?: Record<string, CrossSigningKey>;
        self_signing_keys?: Record<string, CrossSigningKey>;
      }
    | undefined
  >;
  claimKeys(
    server: string,
    oneTimeKeys: Record<string, Record<string, string>>,
    timeoutMs: number,
  ): Promise<{ one_time_keys?: Record<string, Record<string, Record<string, KeyValue>>> } | undefined>;
}

export const unreachableRemoteKeys: RemoteKeysPort = {
  queryKeys: async () => undefined,
  claimKeys: async () => undefined,
};

/** Send-to-device messages for remote users, as an m.direct_to_device EDU (server-server-api "Send-to-device messaging"). */
export interface OutgoingToDevicePort {
  send(
    destination: string,
    edu: { sender: string; type: string; message_id: string; messages: Record<string, Record<string, Record<string, unknown>>> },
  ): Promise<void>;
}

export const droppedOutgoingToDevice: OutgoingToDevicePort = { send: async () => {} };
