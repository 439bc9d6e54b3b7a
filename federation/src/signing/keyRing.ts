// The key ring: remote servers' verify keys, from memory, the durable store, the
// server itself (GET /_matrix/key/v2/server) or trusted notaries (POST /_matrix/key/v2/query).
// Spec: server-server-api.md "Retrieving server keys"; appendices.md "Checking for a Signature";
// rooms/fragments/v5-signing-requirements.md (key validity vs. origin_server_ts).
import type { KeyObject } from 'node:crypto';
import type { JsonObjectLike } from '../core/canonicalJson.js';
import type { RoomVersionRules } from '../core/roomVersions.js';
import type { JsonObject } from '../core/types.js';
import type { LocalServerIdentity, RemoteKeyStore, StoredServerKeys } from '../ports.js';
import { systemClock, type Clock } from '../transport/clock.js';
import type { FederationRequester } from '../transport/federationClient.js';
import type { RequestKeyLookup } from '../transport/xMatrix.js';
import { publicKeyFromBase64 } from './ed25519Key.js';
import { checkServerKeyDocument, keyUsableForRequests, keyValidAt, mergeServerKeys } from './keyRingDocument.js';
import { signaturesOf, verifyJsonSignature, verifyJsonSignatureAsync } from './signJson.js';

export interface NotaryConfig {
  serverName: string;
  /** Pinned keys (keyId → base64). Without them the notary's keys are fetched from it directly. */
  verifyKeys?: Readonly<Record<string, string>>;
}

export interface KeyRingOptions {
  local: LocalServerIdentity;
  store: RemoteKeyStore;
  requester: FederationRequester;
  /** Asked, in order, for keys a server could not give us itself. */
  notaries?: readonly NotaryConfig[];
  clock?: Clock;
  /** A server is asked again for missing/expired keys at most this often. Default 60 s. */
  minRefetchMs?: number;
  /** Remote servers held in memory (least recently used dropped). Default 10 000. */
  memoryLimit?: number;
  /** Per key request; default 15 s. */
  fetchTimeoutMs?: number;
}

/** The timestamp keys must be valid at for an event: its origin_server_ts from room v5, no limit before. */
export function keyValidityTs(rules: Pick<RoomVersionRules, 'enforceKeyValidity'>, originServerTs: number): number {
  return rules.enforceKeyValidity ? originServerTs : 0;
}

interface Want {
  serverName: string;
  keyIds: Set<string>;
  atTs: number;
  /** False for notary duty: we relay only what the server itself says. */
  useNotaries: boolean;
}

export class KeyRing implements RequestKeyLookup {
  private readonly memory = new Map<string, StoredServerKeys>();
  private readonly lastFetchTs = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Servers to fetch in the next batch (collected for one macrotask). */
  private batch: Map<string, Want> | undefined;
  private batchDone: Promise<void> | undefined;
  private readonly clock: Clock;
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(private readonly opts: KeyRingOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** A key of `serverName` valid for something signed at `atTs` (see keyValidityTs), fetching if needed. */
  async getVerifyKey(serverName: string, keyId: string, atTs: number): Promise<KeyObject | undefined> {
    const local = this.localKey(serverName, keyId, atTs);
    if (local !== undefined || serverName === this.opts.local.serverName) return local;
    const found = (r: StoredServerKeys | undefined) => r?.keys[keyId] !== undefined && keyValidAt(r.keys[keyId], atTs);
    let record = await this.record(serverName);
    if (!found(record)) {
      await this.fetch(serverName, [keyId], atTs);
      record = await this.record(serverName);
      if (!found(record)) return undefined;
    }
    return this.toKeyObject(record!.keys[keyId].key);
  }

  /** A key that may sign a request now: currently published by the server and unexpired. */
  async getRequestKey(serverName: string, keyId: string): Promise<KeyObject | undefined> {
    if (serverName === this.opts.local.serverName) {
      const k = this.opts.local.signingKey;
      return k.keyId === keyId ? k.publicKey : undefined;
    }
    const now = this.clock.now();
    let record = await this.record(serverName);
    if (record === undefined || !keyUsableForRequests(record, keyId, now)) {
      await this.fetch(serverName, [keyId], now);
      record = await this.record(serverName);
      if (record === undefined || !keyUsableForRequests(record, keyId, now)) return undefined;
    }
    return this.toKeyObject(record.keys[keyId].key);
  }

  /**
   * Whether `obj` is signed by `serverName`: at least one of its ed25519 signatures has a
   * key valid at `atTs`, and every signature whose key we have verifies. `signedData`: the
   * bytes the signatures cover (signedBytesOf(obj)), if the caller has encoded them already.
   */
  async verifyJsonSignedBy(obj: JsonObjectLike, serverName: string, atTs: number, signedData?: Buffer): Promise<boolean> {
    const sigs = signaturesOf(obj, serverName);
    if (sigs.length === 0) return false;
    const keys = await Promise.all(sigs.map((s) => this.getVerifyKey(serverName, s.keyId, atTs)));
    let checked = 0;
    for (let i = 0; i < sigs.length; i++) {
      const key = keys[i];
      if (key === undefined) continue;
      if (!(await verifyJsonSignatureAsync(obj, serverName, sigs[i].keyId, key, signedData))) return false;
      checked++;
    }
    return checked > 0;
  }

  /** Fetch, in one batch, every listed key not already held (e.g. for all PDUs of a transaction). */
  async prefetch(wants: readonly { serverName: string; keyId: string; atTs: number }[]): Promise<void> {
    await Promise.all(wants.map((w) => this.getVerifyKey(w.serverName, w.keyId, w.atTs)));
  }

  /**
   * Notary side: `serverName`'s latest self-signed key document, refreshed when it is past
   * half its lifetime or not valid until `minimumValidUntilTs`; the last one we had if the
   * server cannot be reached (keys.yaml asks notaries to keep serving it). Empty if none.
   */
  async documentsFor(serverName: string, minimumValidUntilTs: number): Promise<JsonObject[]> {
    let record = await this.record(serverName);
    if (record?.document === undefined || this.stale(record, minimumValidUntilTs)) {
      await this.fetch(serverName, [], minimumValidUntilTs, false);
      record = await this.record(serverName);
    }
    return record?.document === undefined ? [] : [record.document];
  }

  private stale(record: StoredServerKeys, minimumValidUntilTs: number): boolean {
    const until = record.document?.valid_until_ts;
    if (typeof until !== 'number' || until < minimumValidUntilTs) return true;
    return this.clock.now() > record.fetchedTs + (until - record.fetchedTs) / 2;
  }

  private localKey(serverName: string, keyId: string, atTs: number): KeyObject | undefined {
    if (serverName !== this.opts.local.serverName) return undefined;
    const { signingKey, oldVerifyKeys } = this.opts.local;
    if (signingKey.keyId === keyId) return signingKey.publicKey;
    const old = oldVerifyKeys?.find((k) => k.keyId === keyId);
    return old !== undefined && old.expiredTs >= atTs ? this.toKeyObject(old.publicKeyBase64) : undefined;
  }

  private toKeyObject(b64: string): KeyObject {
    let k = this.publicKeys.get(b64);
    if (k === undefined) {
      if (this.publicKeys.size >= 20_000) this.publicKeys.clear(); // a cache, not a registry
      k = publicKeyFromBase64(b64);
      this.publicKeys.set(b64, k);
    }
    return k;
  }

  private async record(serverName: string): Promise<StoredServerKeys | undefined> {
    const hit = this.memory.get(serverName);
    if (hit !== undefined) return hit;
    const stored = await this.opts.store.load(serverName);
    if (stored !== undefined) this.remember(stored);
    return stored;
  }

  private remember(record: StoredServerKeys): void {
    this.memory.delete(record.serverName);
    this.memory.set(record.serverName, record);
    if (this.memory.size > (this.opts.memoryLimit ?? 10_000)) {
      this.memory.delete(this.memory.keys().next().value as string);
    }
  }

  private async accept(raw: unknown, serverName: string): Promise<boolean> {
    const check = checkServerKeyDocument(raw, serverName);
    if (!check.ok) return false;
    const merged = mergeServerKeys(await this.record(serverName), check.doc, this.clock.now());
    this.remember(merged);
    await this.opts.store.save(merged);
    return true;
  }

  /**
   * Ask for `serverName`'s keys unless asked within minRefetchMs. Concurrent callers share
   * one fetch per server; servers wanted in the same tick share one notary query.
   */
  private fetch(serverName: string, keyIds: string[], atTs: number, useNotaries = true): Promise<void> {
    const running = this.inFlight.get(serverName);
    if (running !== undefined) return running;
    const now = this.clock.now();
    const minGap = this.opts.minRefetchMs ?? 60_000;
    const last = this.lastFetchTs.get(serverName);
    if (last !== undefined && now - last < minGap) return Promise.resolve();
    if (this.lastFetchTs.size >= 10_000) {
      for (const [name, ts] of this.lastFetchTs) if (now - ts >= minGap) this.lastFetchTs.delete(name);
    }
    this.lastFetchTs.set(serverName, now);

    if (this.batch === undefined) {
      const batch = new Map<string, Want>();
      this.batch = batch;
      this.batchDone = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.batch = undefined;
        return this.runBatch([...batch.values()]);
      });
    }
    this.batch.set(serverName, { serverName, keyIds: new Set(keyIds), atTs, useNotaries });
    const done = this.batchDone!.finally(() => this.inFlight.delete(serverName));
    this.inFlight.set(serverName, done);
    return done;
  }

  private async runBatch(wants: Want[]): Promise<void> {
    // First each server itself, in parallel.
    const direct = await Promise.all(wants.map((w) => this.fetchDirect(w.serverName)));
    let missing = wants.filter((w, i) => w.useNotaries && !(direct[i] && this.satisfied(w)));
    for (const notary of this.opts.notaries ?? []) {
      if (missing.length === 0) break;
      await this.fetchViaNotary(notary, missing);
      missing = missing.filter((w) => !this.satisfied(w));
    }
  }

  /** Whether the wanted keys are now held valid at the wanted time. */
  private satisfied(w: Want): boolean {
    const record = this.memory.get(w.serverName);
    if (record === undefined) return false;
    for (const keyId of w.keyIds) {
      const k = record.keys[keyId];
      if (k === undefined || !keyValidAt(k, w.atTs)) return false;
    }
    return true;
  }

  private async fetchDirect(serverName: string): Promise<boolean> {
    const res = await this.opts.requester.request({
      destination: serverName,
      method: 'GET',
      path: '/_matrix/key/v2/server',
      signed: false,
      timeoutMs: this.opts.fetchTimeoutMs ?? 15_000,
    });
    return res.ok && (await this.accept(res.body, serverName));
  }

  private async fetchViaNotary(notary: NotaryConfig, wants: Want[]): Promise<void> {
    const serverKeys: JsonObject = {};
    for (const w of wants) {
      if (w.serverName === notary.serverName) continue;
      const criteria: JsonObject = {};
      // v5-signing-requirements: always send minimum_valid_until_ts so the notary refreshes.
      for (const keyId of w.keyIds) criteria[keyId] = { minimum_valid_until_ts: w.atTs };
      serverKeys[w.serverName] = criteria;
    }
    if (Object.keys(serverKeys).length === 0) return;
    const res = await this.opts.requester.request<{ server_keys?: unknown }>({
      destination: notary.serverName,
      method: 'POST',
      path: '/_matrix/key/v2/query',
      body: { server_keys: serverKeys },
      signed: false,
      timeoutMs: this.opts.fetchTimeoutMs ?? 15_000,
    });
    if (!res.ok || !Array.isArray(res.body?.server_keys)) return;
    for (const doc of res.body.server_keys as unknown[]) {
      const name = (doc as { server_name?: unknown } | null)?.server_name;
      if (typeof name !== 'string' || !Object.hasOwn(serverKeys, name)) continue;
      if (!(await this.notarySigned(notary, doc as JsonObject))) continue;
      await this.accept(doc, name);
    }
  }

  /** The relayed document carries a valid signature of the notary. */
  private async notarySigned(notary: NotaryConfig, doc: JsonObject): Promise<boolean> {
    for (const { keyId } of signaturesOf(doc, notary.serverName)) {
      const pinned = notary.verifyKeys?.[keyId];
      let key: KeyObject | undefined;
      if (notary.verifyKeys !== undefined) key = pinned === undefined ? undefined : this.toKeyObject(pinned);
      else key = await this.notaryKey(notary.serverName, keyId);
      if (key !== undefined && verifyJsonSignature(doc, notary.serverName, keyId, key)) return true;
    }
    return false;
  }

  /** An unpinned notary's own key: cached, or straight from the notary (never via notaries: no cycles). */
  private async notaryKey(serverName: string, keyId: string): Promise<KeyObject | undefined> {
    const now = this.clock.now();
    let record = await this.record(serverName);
    if (record?.keys[keyId] === undefined || !keyValidAt(record.keys[keyId], now)) {
      await this.fetchDirect(serverName);
      record = await this.record(serverName);
    }
    const k = record?.keys[keyId];
    return k !== undefined && keyValidAt(k, now) ? this.toKeyObject(k.key) : undefined;
  }
}
