// The JSON objects the key server carries. The server checks signatures and
// shapes; it never holds a private key or a plaintext.
// Spec: client-server-api/modules/end_to_end_encryption.md "Key algorithms",
// data/api/client-server/definitions/{device_keys,cross_signing_key,one_time_keys}.yaml.

export type JsonMap = Record<string, unknown>;
/** user ID → key ID → unpadded base64 signature */
export type Signatures = Record<string, Record<string, string>>;

/** A device's identity keys, as the device uploaded and signed them. */
export interface DeviceKeys {
  user_id: string;
  device_id: string;
  algorithms: string[];
  /** `<algorithm>:<device ID>` → public key */
  keys: Record<string, string>;
  signatures: Signatures;
  [extra: string]: unknown;
}

export type KeyUsage = 'master' | 'self_signing' | 'user_signing';
export const KEY_USAGES: readonly KeyUsage[] = ['master', 'self_signing', 'user_signing'];

/** A cross-signing key: exactly one `ed25519:<public key>` entry in `keys`. */
export interface CrossSigningKey {
  user_id: string;
  usage: string[];
  keys: Record<string, string>;
  signatures?: Signatures;
  [extra: string]: unknown;
}

/** A one-time or fallback key: a bare string (unsigned algorithms) or a signed key object. */
export type KeyValue = string | JsonMap;

/** A one-time or fallback key by its `<algorithm>:<key ID>` parts. */
export interface AlgorithmKey {
  algorithm: string;
  keyId: string;
  key: KeyValue;
}

export interface FallbackKey extends AlgorithmKey {
  /** Handed out by /keys/claim at least once; stays claimable until replaced. */
  used: boolean;
}

/**
 * A signature that someone uploaded with /keys/signatures/upload, kept apart from
 * the signed object so that the object stays exactly as its owner uploaded it.
 * Target key ID: a device ID, or the public key of a cross-signing key.
 */
export interface StoredSignature {
  targetUserId: string;
  targetKeyId: string;
  signerUserId: string;
  /** `ed25519:<device ID or public key>` */
  signerKeyId: string;
  signature: string;
}

/** A send-to-device message as it is stored and delivered. Spec: modules/send_to_device.md. */
export interface ToDeviceEvent {
  type: string;
  sender: string;
  content: JsonMap;
}

/** Spec: key_backup.yaml KeyBackupData. */
export interface KeyBackupData {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: JsonMap;
}

export interface BackupVersion {
  /** Dense per user: "1", "2", …; a deleted version's number is never reused. */
  version: number;
  algorithm: string;
  authData: JsonMap;
  /** Bumped whenever the stored keys change; given to clients as a string. */
  etag: number;
  count: number;
  deleted?: boolean;
}

/** MSC3814: a device whose private keys are stored encrypted by the client, so that it can receive to-device messages while the user is offline. */
export interface DehydratedDevice {
  deviceId: string;
  deviceData: JsonMap;
}
