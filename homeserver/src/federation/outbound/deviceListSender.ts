// Tells the servers that share a room with a local user when the user's devices or
// cross-signing keys change: m.device_list_update per added, changed or deleted device
// (stream_id / prev_id chain) and m.signing_key_update for the master and self-signing keys.
// Spec: server-server-api.md "Device Management" (m.device_list_update, m.signing_key_update).
//
// Each change is compared with what was last announced (kept per user in
// DeviceListOutboxRepo), so only what differs is sent, a missed change is caught up by the
// next one, and prev_id stays right across restarts. stream_id values are the positions of
// our device-list changes, the same scale as the `stream_id` of GET user/devices, so a peer
// that resynced knows where it stands.
//
// A change whose announcement was lost (a crash between the key write and the queue, or a
// failure) is announced at the next startup: `resendPending` replays the device-list stream
// after a cursor saved at the previous startup; changes already announced compare equal and
// send nothing. Synapse keeps a per-destination device-list outbox for the same purpose.
import { createHash } from 'node:crypto';
import { canonicalJson } from '@parley/federation/core/canonicalJson';
import { serverNameOf } from '@parley/federation/core/ids';
import type { JsonObject } from '@parley/federation/core/types';
import type { Edu } from '@parley/federation/ports';
import type { DeviceListOutboxRepo, SentDeviceList } from '../../storage/deviceListOutboxRepo.js';

/** The user's devices as GET user/devices shows them (UserQueryAdapter.devices). */
export interface UserDevicesView {
  devices: Array<{ device_id: string; keys: JsonObject; device_display_name?: string }>;
  master_key?: JsonObject;
  self_signing_key?: JsonObject;
}

export interface DeviceListSenderDeps {
  serverName: string;
  devicesOf(userId: string): Promise<UserDevicesView>;
  /** Other servers with a user joined to a room the user is joined to. */
  serversSharingRoomWith(userId: string): Promise<string[]>;
  repo: Pick<DeviceListOutboxRepo, 'get' | 'put' | 'announcedUpTo' | 'setAnnouncedUpTo'>;
  /** Device-list changes in (after, upTo], oldest first, at most `limit` (E2eeRepo.deviceListChanges). */
  changes(after: number, upTo: number, limit: number): Promise<Array<{ pos: number; userId: string; selfOnly?: boolean }>>;
  queues: { enqueue(destinations: readonly string[], items: ReadonlyArray<{ kind: 'edu'; edu: Edu }>): Promise<void> };
  onError: (err: unknown, what: string) => void;
}

export class DeviceListSender {
  /** Per user: the announcement in progress (changes of one user are announced in order). */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly d: DeviceListSenderDeps) {}

  /** e2ee DeviceLists listener: the user's public device list changed at stream position `pos`. */
  changed = (userId: string, pos: number): void => {
    void this.schedule(userId, pos);
  };

  /**
   * At startup, before live changes matter: announce every local change after the saved cursor
   * up to `upTo` (the durable stream position) that was not announced yet, then save `upTo`.
   * The cursor stays put when an announcement failed, so the next startup tries again.
   */
  async resendPending(upTo: number): Promise<void> {
    const from = (await this.d.repo.announcedUpTo()) ?? 0;
    let after = from;
    let failed = false;
    for (;;) {
      const page = await this.d.changes(after, upTo, REPLAY_PAGE);
      const latest = new Map<string, number>();
      for (const c of page) if (!c.selfOnly) latest.set(c.userId, c.pos);
      // A few users at a time: each announcement is ~8 reads, and a whole page at once (4,000
      // reads in flight) left tens of MB of freed native memory behind after every restart.
      const todo = [...latest];
      const worker = async (): Promise<void> => {
        for (let next = todo.pop(); next; next = todo.pop()) {
          // A user no other server shares a room with has nobody to tell: skip the device reads
          // (when that cannot be read, announce as before, which reports its own failures).
          const local = serverNameOf(next[0]) === this.d.serverName;
          if (local && (await this.d.serversSharingRoomWith(next[0]).catch(() => undefined))?.length === 0) continue;
          if (!(await this.schedule(next[0], next[1]))) failed = true;
        }
      };
      await Promise.all(Array.from({ length: REPLAY_CONCURRENCY }, worker));
      if (page.length < REPLAY_PAGE) break;
      after = page[page.length - 1].pos;
    }
    if (!failed && upTo > from) await this.d.repo.setAnnouncedUpTo(upTo);
  }

  /** Announce after the user's previous announcement; resolves false when it failed. */
  private schedule(userId: string, pos: number): Promise<boolean> {
    if (serverNameOf(userId) !== this.d.serverName) return Promise.resolve(true); // other servers announce their own users
    const prev = this.tails.get(userId) ?? Promise.resolve();
    const next = prev.then(
      () => this.announce(userId, pos).then(
        () => true,
        (err: unknown) => {
          this.d.onError(err, `announcing the device list of ${userId}`);
          return false;
        },
      ),
    );
    const tail = next.then(() => undefined);
    this.tails.set(userId, tail);
    void tail.then(() => {
      if (this.tails.get(userId) === tail) this.tails.delete(userId);
    });
    return next;
  }

  /** Resolves once every change handed over so far is queued (or failed). */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  private async announce(userId: string, pos: number): Promise<void> {
    const [view, sent] = await Promise.all([this.d.devicesOf(userId), this.d.repo.get(userId)]);
    const before: SentDeviceList = sent ?? { streamId: 0, devices: {} };
    const current = new Map(view.devices.map((dev) => [dev.device_id, dev]));
    const changes: Array<{ deviceId: string; content: JsonObject }> = [];
    const devices: Record<string, string> = {};
    for (const [deviceId, dev] of current) {
      const digest = digestOf({ keys: dev.keys, name: dev.device_display_name ?? null });
      devices[deviceId] = digest;
      if (before.devices[deviceId] === digest) continue;
      const content: JsonObject = { keys: dev.keys };
      if (dev.device_display_name !== undefined) content.device_display_name = dev.device_display_name;
      changes.push({ deviceId, content });
    }
    for (const deviceId of Object.keys(before.devices)) {
      if (!current.has(deviceId)) changes.push({ deviceId, content: { deleted: true } });
    }
    const signingKeys: JsonObject = {};
    if (view.master_key) signingKeys.master_key = view.master_key;
    if (view.self_signing_key) signingKeys.self_signing_key = view.self_signing_key;
    const signing = Object.keys(signingKeys).length > 0 ? digestOf(signingKeys) : undefined;
    const signingChanged = signing !== undefined && signing !== before.signing;
    if (changes.length === 0 && !signingChanged) return;

    const edus: Edu[] = [];
    // Cross-signing keys first: a device signed by a new self-signing key is verified against it.
    if (signingChanged) edus.push({ edu_type: 'm.signing_key_update', content: { user_id: userId, ...signingKeys } });
    const upTo = Math.max(pos, before.streamId + 1);
    const ids = streamIdsFor(changes.length, before.streamId, upTo);
    let streamId = before.streamId;
    for (const [i, c] of changes.entries()) {
      // An empty prev_id makes the peer fetch the whole list (user/devices): for the first
      // announcement, and when several devices changed at once with no room for distinct ids.
      const prevId = ids === undefined || streamId === 0 ? [] : [streamId];
      const sid = ids?.[i] ?? upTo;
      edus.push({ edu_type: 'm.device_list_update', content: { user_id: userId, device_id: c.deviceId, stream_id: sid, prev_id: prevId, ...c.content } });
      streamId = sid;
    }

    const destinations = await this.d.serversSharingRoomWith(userId);
    // Queued durably before the record moves on: a crash in between re-sends (peers drop repeats).
    if (destinations.length > 0) await this.d.queues.enqueue(destinations, edus.map((edu) => ({ kind: 'edu' as const, edu })));
    await this.d.repo.put(userId, { streamId, devices, ...(signing !== undefined ? { signing } : {}) });
  }
}

const REPLAY_PAGE = 500;
/** Users announced concurrently by resendPending. */
const REPLAY_CONCURRENCY = 16;

/** `n` increasing stream ids in (last, upTo] ending at `upTo` (the change's position); undefined when they don't fit. */
export function streamIdsFor(n: number, last: number, upTo: number): number[] | undefined {
  if (upTo - last < n) return undefined;
  return Array.from({ length: n }, (_, i) => upTo - (n - 1 - i));
}

function digestOf(v: JsonObject): string {
  return createHash('sha256').update(canonicalJson(v)).digest('base64');
}
