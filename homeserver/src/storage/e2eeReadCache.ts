// What a woken /sync asks the key server about a device is nearly always "nothing new":
// no to-device message, the same one-time key counts and fallback keys, no device-list
// change. This remembers those answers in memory so that such a sync reads nothing.
// Every write method of E2eeRepo tells it what it changes when the batch is staged (and
// the key caches again once durable), before the write's stream position is readable.
// Bounded (LRU); a device or user it does not know about is read from storage.
import type { FallbackKey } from '@parley/e2ee/types';
import { StreamChangeCache, StreamHead } from '../sync/changeCache.js';
import { Lru } from './lru.js';
import { PairKeys } from './pairKeys.js';

const CACHED_DEVICES = 50_000;

interface DeviceState {
  otkCounts?: Record<string, number>;
  fallbacks?: Map<string, FallbackKey>;
  /** No queued to-device message (at any position). */
  inboxEmpty?: boolean;
  /** No partial-delivery record (to-device responses cut short). */
  noPartials?: boolean;
}

export class E2eeReadCache {
  private readonly devices = new Lru<string, DeviceState>(CACHED_DEVICES);
  /** Bumped whenever a device's keys change: a read that overlapped it is not cached. */
  private keysGeneration = 0;
  /** Bumped whenever a partial-delivery record is written. */
  private partialsGeneration = 0;
  /** Devices' latest queued to-device position. */
  readonly toDeviceWrites = new StreamChangeCache(0);
  /** The device-list change stream's newest position. */
  readonly deviceListHead = new StreamHead();
  /**
   * Devices that had queued to-device messages / partial-delivery records at start-up (see
   * prefillToDevice); undefined when not scanned. Any other device's queues were empty then.
   */
  private startInbox: Set<string> | undefined;
  private startPartials: Set<string> | undefined;

  state(userId: string, deviceId: string): DeviceState | undefined {
    const k = deviceKey(userId, deviceId);
    const s = this.devices.get(k);
    if (s || !this.startInbox || !this.startPartials) return s;
    // Not read since start-up: the scan, and what was queued since (every queue is recorded
    // in toDeviceWrites; an evicted key is "maybe"), tell whether both queues are empty.
    const fresh: DeviceState = {};
    if (!this.startInbox.has(k) && !this.toDeviceWrites.mayHaveChangedSince(k, 0)) fresh.inboxEmpty = true;
    if (!this.startPartials.has(k)) fresh.noPartials = true;
    if (!fresh.inboxEmpty && !fresh.noPartials) return undefined;
    this.devices.set(k, fresh);
    return fresh;
  }

  /**
   * The devices with queued to-device messages and with partial-delivery records, as a scan of
   * both keyspaces found them (`mark`: partialsMark before the scan). Queues written since the
   * cache was created are known from toDeviceWrites; a partial record written during the scan
   * makes the scan unusable, so it is dropped.
   */
  prefillToDevice(inbox: Set<string>, partials: Set<string>, mark: number): void {
    if (mark !== this.partialsGeneration) return;
    this.startInbox = inbox;
    this.startPartials = partials;
  }

  /** Start of a key read: pass the result to the matching fill. */
  get keysMark(): number {
    return this.keysGeneration;
  }

  get partialsMark(): number {
    return this.partialsGeneration;
  }

  fillOtkCounts(userId: string, deviceId: string, counts: Record<string, number>, mark: number): void {
    if (mark === this.keysGeneration) this.update(userId, deviceId, { otkCounts: counts });
  }

  fillFallbacks(userId: string, deviceId: string, fallbacks: Map<string, FallbackKey>, mark: number): void {
    if (mark === this.keysGeneration) this.update(userId, deviceId, { fallbacks });
  }

  /** One-time or fallback keys of the devices change (upload, claim, deletion). */
  keysChanged(devices: Iterable<{ userId: string; deviceId: string }>): void {
    this.keysGeneration++;
    for (const d of devices) {
      const s = this.state(d.userId, d.deviceId);
      if (s) {
        delete s.otkCounts;
        delete s.fallbacks;
      }
    }
  }

  /** A to-device message for the device is staged at `pos`. */
  queued(userId: string, deviceId: string, pos: number): void {
    this.toDeviceWrites.record(deviceKey(userId, deviceId), pos);
    const s = this.state(userId, deviceId);
    if (s) s.inboxEmpty = false;
  }

  /**
   * An inbox read up to `upTo` found nothing. Every position up to `upTo` was written before
   * the read, so the inbox is empty unless a message was queued after `upTo`.
   */
  foundInboxEmpty(userId: string, deviceId: string, upTo: number): void {
    if (!this.toDeviceWrites.mayHaveChangedSince(deviceKey(userId, deviceId), upTo)) this.update(userId, deviceId, { inboxEmpty: true });
  }

  partialWritten(userId: string, deviceId: string): void {
    this.partialsGeneration++;
    this.startPartials?.add(deviceKey(userId, deviceId));
    const s = this.devices.get(deviceKey(userId, deviceId));
    if (s) s.noPartials = false;
  }

  foundNoPartials(userId: string, deviceId: string, mark: number): void {
    if (mark === this.partialsGeneration) this.update(userId, deviceId, { noPartials: true });
  }

  /** The devices are deleted: forget everything about them. */
  devicesDeleted(userId: string, deviceIds: string[]): void {
    this.keysGeneration++;
    this.partialsGeneration++;
    for (const d of deviceIds) this.devices.delete(deviceKey(userId, d));
  }

  private update(userId: string, deviceId: string, patch: DeviceState): void {
    const k = deviceKey(userId, deviceId);
    this.devices.set(k, { ...this.devices.get(k), ...patch });
  }
}

/** One cache per database, whichever E2eeRepo instance reads or writes (main.ts and the remote device cache each hold one). */
const perDatabase = new WeakMap<object, E2eeReadCache>();

export function e2eeReadCacheOf(db: object): E2eeReadCache {
  let c = perDatabase.get(db);
  if (!c) perDatabase.set(db, (c = new E2eeReadCache()));
  return c;
}

const deviceKeys = new PairKeys();
export function deviceKey(userId: string, deviceId: string): string {
  return deviceKeys.of(userId, deviceId);
}
