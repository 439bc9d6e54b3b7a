// Cross-signing: a user's master, self-signing and user-signing keys, and the
// signatures users upload on their own devices, their own master key and other
// users' master keys.
// Spec: modules/end_to_end_encryption.md "Cross-signing", "Key and signature security";
// cross_signing.yaml.
import { forbidden, invalidParam, invalidSignature, missingParam } from './errors.js';
import type { DeviceLists } from './deviceLists.js';
import type { KeyedLock } from './keyedLock.js';
import type { DeviceDirectory, E2eeStore } from './ports.js';
import { crossSigningPublicKey, deviceSigningKey, sameObject, sameSignedContent, verifySignature, withSignatures } from './signatures.js';
import type { CrossSigningKey, JsonMap, KeyUsage, StoredSignature } from './types.js';

export type CrossSigningUpload = Partial<Record<'master_key' | 'self_signing_key' | 'user_signing_key', CrossSigningKey>>;
export type CrossSigningKeys = Partial<Record<KeyUsage, CrossSigningKey>>;

const FIELD_OF: Record<KeyUsage, keyof CrossSigningUpload> = {
  master: 'master_key',
  self_signing: 'self_signing_key',
  user_signing: 'user_signing_key',
};

export interface SignatureFailure {
  errcode: string;
  error: string;
}

export interface CrossSigningDeps {
  store: E2eeStore;
  devices: DeviceDirectory;
  deviceLists: DeviceLists;
  lock: KeyedLock;
}

export class CrossSigningService {
  constructor(private readonly d: CrossSigningDeps) {}

  /**
   * The user's cross-signing keys as `requester` may see them: the user-signing key only
   * for the user themself, and only signatures made by the key's owner or by the requester.
   */
  async keysFor(requester: string, userId: string): Promise<CrossSigningKeys> {
    const [keys, sigs] = await Promise.all([this.d.store.crossSigningKeys(userId), this.d.store.signaturesOn(userId)]);
    const out: CrossSigningKeys = {};
    for (const usage of ['master', 'self_signing', 'user_signing'] as const) {
      const k = keys[usage];
      if (!k || (usage === 'user_signing' && requester !== userId)) continue;
      const pub = crossSigningPublicKey(k)?.publicKey;
      const visible = sigs.filter((s) => s.targetKeyId === pub && (s.signerUserId === userId || s.signerUserId === requester));
      out[usage] = withSignatures(k, visible);
    }
    return out;
  }

  /**
   * Whether this upload needs User-Interactive Authentication: only when it would
   * replace keys — a first upload, or a retry of the same keys, needs none.
   * Spec: cross_signing.yaml POST /keys/device_signing/upload (since v1.11).
   */
  async uploadNeedsAuth(userId: string, body: CrossSigningUpload): Promise<boolean> {
    const stored = await this.d.store.crossSigningKeys(userId);
    if (!stored.master) return false;
    return (['master', 'self_signing', 'user_signing'] as const).some((usage) => {
      const k = body[FIELD_OF[usage]];
      const old = stored[usage];
      return k !== undefined && !(old && sameObject(old, k));
    });
  }

  /** Store the uploaded keys (the caller has done UIA when uploadNeedsAuth said so). */
  async upload(userId: string, body: CrossSigningUpload): Promise<void> {
    for (const usage of ['master', 'self_signing', 'user_signing'] as const) {
      const k = body[FIELD_OF[usage]];
      if (k) checkShape(k, usage, userId);
    }
    await this.d.lock.run(userId, async () => {
      const stored = await this.d.store.crossSigningKeys(userId);
      const master = body.master_key ?? stored.master;
      for (const usage of ['self_signing', 'user_signing'] as const) {
        const k = body[FIELD_OF[usage]];
        if (!k) continue;
        if (!master) throw missingParam('No master signing key is available to check the signature of ' + FIELD_OF[usage]);
        const m = crossSigningPublicKey(master)!;
        if (!verifySignature(k, userId, m.keyId, m.publicKey)) {
          throw invalidSignature(`${FIELD_OF[usage]} is not signed by the master signing key`);
        }
      }
      // Device IDs and cross-signing public keys share one namespace (spec "Key and signature security").
      const deviceIds = new Set((await this.d.devices.devices(userId)).map((d) => d.deviceId));
      const changed: CrossSigningKeys = {};
      for (const usage of ['master', 'self_signing', 'user_signing'] as const) {
        const k = body[FIELD_OF[usage]];
        if (!k) continue;
        if (deviceIds.has(crossSigningPublicKey(k)!.publicKey)) throw forbidden('Key ID in use by a device');
        const old = stored[usage];
        if (!old || !sameObject(old, k)) changed[usage] = k;
      }
      if (Object.keys(changed).length === 0) return;
      await this.d.deviceLists.change(userId, (pos) => this.d.store.writeCrossSigningKeys(userId, changed, pos));
    });
  }

  /**
   * POST /keys/signatures/upload: each signed object must equal the stored key it names
   * (signatures aside), and each new signature by the requester must verify with the
   * requester's key that may make it. Bad entries go to `failures`; nothing of them is stored.
   */
  async uploadSignatures(requester: string, body: Record<string, Record<string, JsonMap>>): Promise<{ failures: Record<string, Record<string, SignatureFailure>> }> {
    const failures: Record<string, Record<string, SignatureFailure>> = {};
    const fail = (user: string, keyId: string, errcode: string, error: string) => ((failures[user] ??= {})[keyId] = { errcode, error });
    const mine = await this.d.store.crossSigningKeys(requester);
    const selfSigning = mine.self_signing && crossSigningPublicKey(mine.self_signing);
    const userSigning = mine.user_signing && crossSigningPublicKey(mine.user_signing);

    const accepted: StoredSignature[] = [];
    let ownKeys = false;
    for (const [targetUser, byKey] of Object.entries(body)) {
      const target = await this.targetKeys(targetUser);
      for (const [keyId, signed] of Object.entries(byKey)) {
        const stored = target.byId.get(keyId);
        if (!stored) {
          fail(targetUser, keyId, 'M_NOT_FOUND', 'Unknown key');
          continue;
        }
        if (!sameSignedContent(stored.obj, signed)) {
          fail(targetUser, keyId, 'M_INVALID_SIGNATURE', 'The signed object does not match the stored key');
          continue;
        }
        // Which of the requester's keys may sign this object (spec "Cross-signing"):
        // own devices with the self-signing key, own master key with a device key,
        // other users' master keys with the user-signing key.
        const signers = new Map<string, string>();
        if (targetUser === requester && stored.kind === 'device' && selfSigning) signers.set(selfSigning.keyId, selfSigning.publicKey);
        if (targetUser === requester && stored.kind === 'master') for (const [id, pub] of target.deviceSigners) signers.set(id, pub);
        if (targetUser !== requester && stored.kind === 'master' && userSigning) signers.set(userSigning.keyId, userSigning.publicKey);

        const byRequester = isSigMap(signed.signatures) ? signed.signatures[requester] : undefined;
        const given: Record<string, unknown> = isSigMap(byRequester) ? byRequester : {};
        const already = new Set(
          target.sigs.filter((s) => s.targetKeyId === keyId && s.signerUserId === requester).map((s) => `${s.signerKeyId} ${s.signature}`),
        );
        const own = (stored.obj.signatures as Record<string, Record<string, string>> | undefined)?.[requester] ?? {};
        const fresh = Object.entries(given).filter(([id, sig]) => own[id] !== sig && !already.has(`${id} ${sig}`));
        if (fresh.length === 0 && Object.keys(given).length === 0) {
          fail(targetUser, keyId, 'M_INVALID_SIGNATURE', `No signature by ${requester}`);
          continue;
        }
        const bad = fresh.find(([id, sig]) => {
          const pub = signers.get(id);
          return typeof sig !== 'string' || pub === undefined || !verifySignature(signed, requester, id, pub);
        });
        if (bad) {
          fail(targetUser, keyId, 'M_INVALID_SIGNATURE', `Invalid signature ${bad[0]}`);
          continue;
        }
        for (const [signerKeyId, signature] of fresh) {
          accepted.push({ targetUserId: targetUser, targetKeyId: keyId, signerUserId: requester, signerKeyId, signature: signature as string });
        }
        if (targetUser === requester) ownKeys = true;
      }
    }
    if (accepted.length > 0) {
      // Signatures on one's own keys are seen by everyone; on others' master keys only by oneself.
      const selfOnly = !ownKeys;
      await this.d.deviceLists.change(
        requester,
        (pos) => this.d.store.writeSignatures(accepted, [{ userId: requester, pos, selfOnly }]),
        { selfOnly },
      );
    }
    return { failures };
  }

  /** A user's signable keys by the key ID used in /keys/signatures/upload, and their device signing keys. */
  private async targetKeys(userId: string) {
    const [devices, cs, sigs] = await Promise.all([
      this.d.store.deviceKeys(userId),
      this.d.store.crossSigningKeys(userId),
      this.d.store.signaturesOn(userId),
    ]);
    const byId = new Map<string, { kind: 'device' | KeyUsage; obj: JsonMap }>();
    const deviceSigners = new Map<string, string>();
    for (const [deviceId, k] of devices) {
      byId.set(deviceId, { kind: 'device', obj: k });
      const ed = deviceSigningKey(k);
      if (ed) deviceSigners.set(`ed25519:${deviceId}`, ed);
    }
    for (const usage of ['master', 'self_signing', 'user_signing'] as const) {
      const k = cs[usage];
      const pub = k && crossSigningPublicKey(k);
      if (k && pub) byId.set(pub.publicKey, { kind: usage, obj: k });
    }
    return { byId, deviceSigners, sigs };
  }
}

function checkShape(k: CrossSigningKey, usage: KeyUsage, userId: string): void {
  const field = FIELD_OF[usage];
  if (k.user_id !== userId) throw invalidParam(`${field}.user_id is not the user of this access token`);
  if (!k.usage.includes(usage)) throw invalidParam(`${field}.usage must include ${usage}`);
  if (!crossSigningPublicKey(k)) throw invalidParam(`${field}.keys must hold exactly one ed25519:<public key> entry`);
}

function isSigMap(v: unknown): v is Record<string, Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
