// The key server's storage (the E2eeStore port of @parley/e2ee): device keys,
// one-time and fallback keys, cross-signing keys and signatures, the device-list
// change stream, to-device queues, key backups and dehydrated devices.
// Layouts: schema.ts, "end-to-end encryption". Every write method is one batch.
import type {
  ClaimRequest,
  ClaimedKey,
  DeviceListChange,
  E2eeStore,
  InboxEntry,
  KeyUploadWrite,
} from '@parley/e2ee/ports';
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
} from '@parley/e2ee/types';
import { strKey, type BatchOp, type Database } from './db.js';
import { deviceKey, e2eeReadCacheOf, type E2eeReadCache } from './e2eeReadCache.js';
import { key, prefixRange, readU64, splitStrings } from './keys.js';

interface OtkRecord {
  algorithm: string;
  keyId: string;
  key: KeyValue;
}
interface OtkIdRecord {
  seq: number;
  key: KeyValue;
}
interface BackupKeyRecord {
  roomId: string;
  sessionId: string;
  data: KeyBackupData;
}

const USAGES: readonly KeyUsage[] = ['master', 'self_signing', 'user_signing'];

export class E2eeRepo implements E2eeStore {
  /** Answers for quiet devices, so a woken /sync reads nothing here (shared by every repo of the database). */
  private readonly cache: E2eeReadCache;

  constructor(private readonly db: Database) {
    this.cache = e2eeReadCacheOf(db);
  }

  // ── device keys, one-time and fallback keys ────────────────────────────────

  async deviceKeys(userId: string, deviceIds?: string[]): Promise<Map<string, DeviceKeys>> {
    if (deviceIds === undefined) {
      const rows = await this.db.range<DeviceKeys>('userdevice_devicekeys', prefixRange(key(userId)));
      return new Map(rows.map(([, v]) => [v.device_id, v]));
    }
    const values = await this.db.getMany<DeviceKeys>('userdevice_devicekeys', deviceIds.map((d) => key(userId, d)));
    const out = new Map<string, DeviceKeys>();
    deviceIds.forEach((d, i) => {
      const v = values[i];
      if (v) out.set(d, v);
    });
    return out;
  }

  async oneTimeKeys(userId: string, deviceId: string, ids: string[]): Promise<Map<string, KeyValue>> {
    const values = await this.db.getMany<OtkIdRecord>('userdevicekeyid_otk', ids.map((id) => key(userId, deviceId, id)));
    const out = new Map<string, KeyValue>();
    ids.forEach((id, i) => {
      const v = values[i];
      if (v) out.set(id, v.key);
    });
    return out;
  }

  async oneTimeKeyCounts(userId: string, deviceId: string): Promise<Record<string, number>> {
    const cached = this.cache.state(userId, deviceId)?.otkCounts;
    if (cached) return { ...cached };
    const mark = this.cache.keysMark;
    const rows = await this.db.range<OtkRecord>('userdevicealgseq_otk', prefixRange(key(userId, deviceId)));
    const counts: Record<string, number> = {};
    for (const [, v] of rows) counts[v.algorithm] = (counts[v.algorithm] ?? 0) + 1;
    this.cache.fillOtkCounts(userId, deviceId, { ...counts }, mark);
    return counts;
  }

  quietDevice(userId: string, deviceId: string): { otkCounts: Readonly<Record<string, number>>; fallbacks: ReadonlyMap<string, FallbackKey> } | undefined {
    const s = this.cache.state(userId, deviceId);
    if (!s?.inboxEmpty || !s.noPartials || !s.otkCounts || !s.fallbacks) return undefined;
    return { otkCounts: s.otkCounts, fallbacks: s.fallbacks };
  }

  async fallbackKeys(userId: string, deviceId: string): Promise<Map<string, FallbackKey>> {
    const cached = this.cache.state(userId, deviceId)?.fallbacks;
    if (cached) return new Map(cached);
    const mark = this.cache.keysMark;
    const rows = await this.db.range<FallbackKey>('userdevicealg_fallback', prefixRange(key(userId, deviceId)));
    const out = new Map(rows.map(([, v]) => [v.algorithm, v] as const));
    this.cache.fillFallbacks(userId, deviceId, new Map(out), mark);
    return out;
  }

  async writeKeyUpload(userId: string, deviceId: string, w: KeyUploadWrite): Promise<void> {
    const ops: BatchOp[] = [];
    if (w.deviceKeys) ops.push(this.db.put('userdevice_devicekeys', key(userId, deviceId), w.deviceKeys));
    for (const k of w.oneTimeKeys) ops.push(...this.putOtk(userId, deviceId, w.otkSeq, k));
    for (const k of w.fallbackKeys) ops.push(this.db.put('userdevicealg_fallback', key(userId, deviceId, k.algorithm), k));
    if (w.changePos !== undefined) ops.push(...this.changeOps({ userId, pos: w.changePos }));
    await this.writeKeys([{ userId, deviceId }], ops);
  }

  /** A batch that changes devices' one-time or fallback keys: their cached answers go before and after it. */
  private async writeKeys(devices: Array<{ userId: string; deviceId: string }>, ops: BatchOp[]): Promise<void> {
    this.cache.keysChanged(devices);
    try {
      await this.db.write(ops);
    } finally {
      this.cache.keysChanged(devices);
    }
  }

  async claimKeys(requests: ClaimRequest[]): Promise<Array<ClaimedKey | undefined>> {
    const ops: BatchOp[] = [];
    const taken = new Set<string>();
    const out: Array<ClaimedKey | undefined> = [];
    for (const r of requests) {
      const rows = await this.db.range<OtkRecord>('userdevicealgseq_otk', {
        ...prefixRange(key(r.userId, r.deviceId, r.algorithm)),
        limit: 1 + countTaken(taken, r),
      });
      const free = rows.find(([k]) => !taken.has(k.toString('hex')));
      if (free) {
        const [k, v] = free;
        taken.add(k.toString('hex'));
        ops.push(this.db.del('userdevicealgseq_otk', k));
        ops.push(this.db.del('userdevicekeyid_otk', key(r.userId, r.deviceId, `${v.algorithm}:${v.keyId}`)));
        out.push({ algorithm: v.algorithm, keyId: v.keyId, key: v.key, fallback: false });
        continue;
      }
      const fb = await this.db.get<FallbackKey>('userdevicealg_fallback', key(r.userId, r.deviceId, r.algorithm));
      if (!fb) {
        out.push(undefined);
        continue;
      }
      if (!fb.used) ops.push(this.db.put('userdevicealg_fallback', key(r.userId, r.deviceId, r.algorithm), { ...fb, used: true }));
      out.push({ algorithm: fb.algorithm, keyId: fb.keyId, key: fb.key, fallback: true });
    }
    await this.writeKeys(requests, ops);
    return out;
  }

  private putOtk(userId: string, deviceId: string, seq: number, k: AlgorithmKey): BatchOp[] {
    const record: OtkRecord = { algorithm: k.algorithm, keyId: k.keyId, key: k.key };
    return [
      this.db.put('userdevicealgseq_otk', key(userId, deviceId, k.algorithm, seq, k.keyId), record),
      this.db.put('userdevicekeyid_otk', key(userId, deviceId, `${k.algorithm}:${k.keyId}`), { seq, key: k.key } satisfies OtkIdRecord),
    ];
  }

  // ── cross-signing ──────────────────────────────────────────────────────────

  async crossSigningKeys(userId: string): Promise<Partial<Record<KeyUsage, CrossSigningKey>>> {
    const values = await this.db.getMany<CrossSigningKey>('userusage_crosssigning', USAGES.map((u) => key(userId, u)));
    const out: Partial<Record<KeyUsage, CrossSigningKey>> = {};
    USAGES.forEach((u, i) => {
      const v = values[i];
      if (v) out[u] = v;
    });
    return out;
  }

  async writeCrossSigningKeys(userId: string, keys: Partial<Record<KeyUsage, CrossSigningKey>>, changePos: number): Promise<void> {
    const ops: BatchOp[] = [];
    for (const u of USAGES) {
      const k = keys[u];
      if (k) ops.push(this.db.put('userusage_crosssigning', key(userId, u), k));
    }
    ops.push(...this.changeOps({ userId, pos: changePos }));
    await this.db.write(ops);
  }

  async signaturesOn(targetUserId: string): Promise<StoredSignature[]> {
    const rows = await this.db.range<StoredSignature>('targetsigner_signature', prefixRange(key(targetUserId)));
    return rows.map(([, v]) => v);
  }

  async writeSignatures(sigs: StoredSignature[], changes: DeviceListChange[]): Promise<void> {
    const ops = sigs.map((s) =>
      this.db.put('targetsigner_signature', key(s.targetUserId, s.targetKeyId, s.signerUserId, s.signerKeyId), s),
    );
    for (const c of changes) ops.push(...this.changeOps(c));
    await this.db.write(ops);
  }

  // ── device lists ───────────────────────────────────────────────────────────

  async deviceListChanges(after: number, upTo: number, limit?: number): Promise<DeviceListChange[]> {
    if (upTo <= after) return [];
    const head = this.cache.deviceListHead;
    if (!head.isKnown) {
      const [last] = await this.db.range('stream_devicelist', { reverse: true, limit: 1 });
      head.observe(last ? readU64(last[0]) : 0);
    }
    if (!head.mayHaveChangedSince(after)) return [];
    const rows = await this.db.range<{ userId: string; selfOnly?: boolean }>('stream_devicelist', {
      gte: key(after + 1),
      lt: key(upTo + 1),
      ...(limit !== undefined ? { limit } : {}),
    });
    return rows.map(([k, v]) => ({ pos: readU64(k), userId: v.userId, ...(v.selfOnly ? { selfOnly: true } : {}) }));
  }

  async deleteDevices(userId: string, deviceIds: string[], changePos: number | undefined): Promise<void> {
    const ops: BatchOp[] = [];
    const spaces = [
      'userdevicealgseq_otk',
      'userdevicekeyid_otk',
      'userdevicealg_fallback',
      'userdevicestream_todevice',
      'senderdevicetxn_todevice',
      'userdevicetoken_partialdelivery',
    ] as const;
    for (const deviceId of deviceIds) {
      ops.push(this.db.del('userdevice_devicekeys', key(userId, deviceId)));
      for (const space of spaces) {
        for (const [k] of await this.db.range(space, prefixRange(key(userId, deviceId)))) ops.push(this.db.del(space, k));
      }
      // Signatures on the device (target = user · device ID).
      for (const [k] of await this.db.range('targetsigner_signature', prefixRange(key(userId, deviceId)))) {
        ops.push(this.db.del('targetsigner_signature', k));
      }
    }
    if (changePos !== undefined) ops.push(...this.changeOps({ userId, pos: changePos }));
    this.cache.devicesDeleted(userId, deviceIds);
    try {
      await this.db.write(ops);
    } finally {
      this.cache.devicesDeleted(userId, deviceIds);
    }
  }

  async writeDeviceListChange(userId: string, pos: number): Promise<void> {
    await this.db.write(this.changeOps({ userId, pos }));
  }

  /** The change in the stream, and (unless only the user sees it) the user's latest position. */
  private changeOps(c: DeviceListChange): BatchOp[] {
    return c.selfOnly ? [this.changeOp(c)] : [this.changeOp(c), this.db.put('userid_devicelistpos', strKey(c.userId), c.pos)];
  }

  private changeOp(c: DeviceListChange): BatchOp {
    // Every device-list change is staged through here, before its position is readable.
    this.cache.deviceListHead.record(c.pos);
    return this.db.put('stream_devicelist', key(c.pos, c.userId), { userId: c.userId, ...(c.selfOnly ? { selfOnly: true } : {}) });
  }

  /**
   * The batch ops recording a (public) device-list change of `userId` at `pos`, for writers
   * outside the key server that change a device list in their own batch (the remote device cache).
   */
  deviceListChangeOps(userId: string, pos: number): BatchOp[] {
    return this.changeOps({ userId, pos });
  }

  /**
   * The position of the user's latest device-list change others see (0 if none): the
   * federation `stream_id` of the user's device list. Databases from before the index are scanned.
   */
  async deviceListPosition(userId: string): Promise<number> {
    const pos = await this.db.get<number>('userid_devicelistpos', strKey(userId));
    if (pos !== undefined) return pos;
    for await (const [k, v] of this.db.space('stream_devicelist').iterator({ reverse: true })) {
      const rec = v as { userId: string; selfOnly?: boolean };
      if (rec.userId === userId && !rec.selfOnly) return readU64(k as Buffer);
    }
    return 0;
  }

  // ── to-device ──────────────────────────────────────────────────────────────

  async hasToDeviceTxn(sender: string, senderDevice: string, txnId: string): Promise<boolean> {
    return (await this.db.get('senderdevicetxn_todevice', key(sender, senderDevice, txnId))) !== undefined;
  }

  async writeToDevice(
    txn: { sender: string; senderDevice: string; txnId: string },
    pos: number,
    messages: Array<{ userId: string; deviceId: string; event: ToDeviceEvent }>,
  ): Promise<void> {
    for (const m of messages) this.cache.queued(m.userId, m.deviceId, pos);
    const ops = messages.map((m) =>
      this.db.put('userdevicestream_todevice', key(m.userId, m.deviceId, pos), { pos, event: m.event } satisfies InboxEntry),
    );
    ops.push(this.db.put('senderdevicetxn_todevice', key(txn.sender, txn.senderDevice, txn.txnId), pos));
    await this.db.write(ops);
  }

  async inbox(userId: string, deviceId: string, upTo: number, limit: number, after = 0): Promise<InboxEntry[]> {
    if (this.cache.state(userId, deviceId)?.inboxEmpty) return [];
    const rows = await this.db.range<InboxEntry>('userdevicestream_todevice', {
      gte: after > 0 ? key(userId, deviceId, after + 1) : key(userId, deviceId),
      lt: key(userId, deviceId, upTo + 1),
      limit,
    });
    // Only a read from the start tells that the whole inbox is empty (callers read up to a
    // readable position, so nothing at or below `upTo` can still be on its way).
    if (rows.length === 0 && after === 0) this.cache.foundInboxEmpty(userId, deviceId, upTo);
    return rows.map(([, v]) => v);
  }

  /**
   * Start-up: find which devices have queued to-device messages or partial-delivery records
   * (keys only), so that each device's first /sync after a restart need not read both queues —
   * four reads per device, nearly always finding nothing. Skipped (devices are read as before)
   * when a keyspace holds more than `max` entries.
   */
  async prefillToDeviceCache(max = 100_000): Promise<void> {
    const mark = this.cache.partialsMark;
    const [inbox, partials] = await Promise.all([
      this.devicesIn('userdevicestream_todevice', max),
      this.devicesIn('userdevicetoken_partialdelivery', max),
    ]);
    if (inbox && partials) this.cache.prefillToDevice(inbox, partials, mark);
  }

  /** The devices (user · device keys) with an entry in a keyspace keyed user str· · device str· · …, or undefined above `max` entries. */
  private async devicesIn(space: 'userdevicestream_todevice' | 'userdevicetoken_partialdelivery', max: number): Promise<Set<string> | undefined> {
    const keys = (await this.db.space(space).keys({ limit: max + 1 }).all()) as Buffer[];
    if (keys.length > max) return undefined;
    const out = new Set<string>();
    for (const k of keys) {
      // The first two parts are the IDs; what follows is a u64 whose bytes may look like separators.
      const [userId, deviceId] = splitStrings(k);
      out.add(deviceKey(userId, deviceId));
    }
    return out;
  }

  async ackInbox(userId: string, deviceId: string, through: number, keepFrom: number): Promise<void> {
    const known = this.cache.state(userId, deviceId);
    // Nothing queued and no delivery record: nothing to delete.
    if (known?.inboxEmpty && known.noPartials) return;
    const mark = this.cache.partialsMark;
    const [done, records] = await Promise.all([
      known?.inboxEmpty
        ? []
        : this.db.range('userdevicestream_todevice', { gte: key(userId, deviceId), lt: key(userId, deviceId, through + 1) }),
      // All of the device's records: those from keepFrom on stay, and tell whether any remain.
      known?.noPartials ? [] : this.db.range<number>('userdevicetoken_partialdelivery', prefixRange(key(userId, deviceId))),
    ]);
    const stale = records.filter(([k]) => readU64(k, key(userId, deviceId).length) < keepFrom);
    await this.db.write([
      ...done.map(([k]) => this.db.del('userdevicestream_todevice', k)),
      ...stale.map(([k]) => this.db.del('userdevicetoken_partialdelivery', k)),
    ]);
    if (stale.length === records.length) this.cache.foundNoPartials(userId, deviceId, mark);
  }

  partialDelivery(userId: string, deviceId: string, token: number): Promise<number | undefined> {
    if (this.cache.state(userId, deviceId)?.noPartials) return Promise.resolve(undefined);
    return this.db.get<number>('userdevicetoken_partialdelivery', key(userId, deviceId, token));
  }

  async writePartialDelivery(userId: string, deviceId: string, token: number, through: number): Promise<void> {
    this.cache.partialWritten(userId, deviceId);
    await this.db.write([this.db.put('userdevicetoken_partialdelivery', key(userId, deviceId, token), through)]);
  }

  // ── key backup ─────────────────────────────────────────────────────────────

  async latestBackup(userId: string): Promise<BackupVersion | undefined> {
    for await (const [, v] of this.db.space('userversion_backup').iterator({ ...prefixRange(key(userId)), reverse: true })) {
      const b = v as BackupVersion;
      if (!b.deleted) return b;
    }
    return undefined;
  }

  backup(userId: string, version: number): Promise<BackupVersion | undefined> {
    return this.db.get<BackupVersion>('userversion_backup', key(userId, version));
  }

  async lastBackupVersion(userId: string): Promise<number> {
    const rows = await this.db.range<BackupVersion>('userversion_backup', { ...prefixRange(key(userId)), reverse: true, limit: 1 });
    return rows[0]?.[1].version ?? 0;
  }

  async putBackup(userId: string, info: BackupVersion): Promise<void> {
    await this.db.write([this.db.put('userversion_backup', key(userId, info.version), info)]);
  }

  async deleteBackup(userId: string, version: number): Promise<void> {
    const info = await this.backup(userId, version);
    if (!info) return;
    const keys = await this.db.range('userversionroomsession_backupkey', prefixRange(key(userId, version)));
    await this.db.write([
      this.db.put('userversion_backup', key(userId, version), { ...info, deleted: true, count: 0 } satisfies BackupVersion),
      ...keys.map(([k]) => this.db.del('userversionroomsession_backupkey', k)),
    ]);
  }

  async backupKeys(userId: string, version: number, roomId?: string, sessionId?: string): Promise<BackupKeyRecord[]> {
    if (roomId !== undefined && sessionId !== undefined) {
      const v = await this.db.get<BackupKeyRecord>('userversionroomsession_backupkey', key(userId, version, roomId, sessionId));
      return v ? [v] : [];
    }
    const prefix = roomId !== undefined ? key(userId, version, roomId) : key(userId, version);
    return (await this.db.range<BackupKeyRecord>('userversionroomsession_backupkey', prefixRange(prefix))).map(([, v]) => v);
  }

  async writeBackupKeys(
    userId: string,
    info: BackupVersion,
    puts: BackupKeyRecord[],
    dels: Array<{ roomId: string; sessionId: string }>,
  ): Promise<void> {
    const at = (roomId: string, sessionId: string) => key(userId, info.version, roomId, sessionId);
    await this.db.write([
      this.db.put('userversion_backup', key(userId, info.version), info),
      ...puts.map((p) => this.db.put('userversionroomsession_backupkey', at(p.roomId, p.sessionId), p)),
      ...dels.map((d) => this.db.del('userversionroomsession_backupkey', at(d.roomId, d.sessionId))),
    ]);
  }

  // ── dehydrated devices ─────────────────────────────────────────────────────

  dehydratedDevice(userId: string): Promise<DehydratedDevice | undefined> {
    return this.db.get<DehydratedDevice>('userid_dehydrateddevice', strKey(userId));
  }

  async putDehydratedDevice(userId: string, device: DehydratedDevice | undefined): Promise<void> {
    await this.db.write([
      device ? this.db.put('userid_dehydrateddevice', strKey(userId), device) : this.db.del('userid_dehydrateddevice', strKey(userId)),
    ]);
  }
}

/** How many keys of this device and algorithm this batch already took (so the range skips them). */
function countTaken(taken: Set<string>, r: ClaimRequest): number {
  const prefix = key(r.userId, r.deviceId, r.algorithm).toString('hex');
  let n = 0;
  for (const t of taken) if (t.startsWith(prefix)) n++;
  return n;
}
