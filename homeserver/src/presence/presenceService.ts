// Presence of local users: explicit states (PUT /presence), the states /sync implies
// (set_presence), activity (sending events) and the timers that move a user to
// `unavailable` when idle and to `offline` when no client syncs any more.
// Spec: client-server-api/modules/presence.md "Last active ago", "Idle timeout".
// Where the spec is silent the timings and rules are Synapse's (handlers/presence.py).
//
// Every change a client would see (state, status message, currently_active) takes a
// stream position, is written durably, and wakes the syncs of the user's room-mates
// through the room keys of the notifier (one key per room, not per member). The last
// active time alone changes only in memory: clients compute it from last_active_ago,
// which is filled in when an event is delivered.
import type { PresenceRecord, PresenceRepo, PresenceState } from '../storage/presenceRepo.js';
import type { ChangeKeys } from '../sync/notifier.js';
import { KeyedLock } from '../util/keyedLock.js';

export type { PresenceState };

/** No activity for this long turns `online` into `unavailable` (Synapse IDLE_TIMER). */
export const IDLE_AFTER_MS = 5 * 60_000;
/** No sync in flight and none for this long turns a user `offline` (Synapse SYNC_ONLINE_TIMEOUT). */
export const SYNC_TIMEOUT_MS = 30_000;
/** `currently_active` stays true this long after the last activity (Synapse LAST_ACTIVE_GRANULARITY). */
export const ACTIVE_GRANULARITY_MS = 60_000;

/** The m.presence content as clients see it (presence.yaml GET, m.presence event). */
export interface PresenceContent {
  presence: PresenceState;
  last_active_ago?: number;
  status_msg?: string;
  currently_active?: boolean;
}

export interface PresenceDeps {
  repo: PresenceRepo;
  stream: { run<T>(write: (pos: number) => Promise<T>): Promise<T> };
  notifier: { notify(pos: number, changed: ChangeKeys): void };
  /** The rooms the user is joined to (whose members get the user's presence). */
  joinedRooms(userId: string): Promise<string[]>;
  /** Local users get the idle/offline timers; other servers' users are timed by their own server. Default: everyone. */
  isLocal?: (userId: string) => boolean;
  now?: () => number;
}

export class PresenceService {
  /** Local users who are not offline, with their latest record: the only ones the timers look at. */
  private readonly live = new Map<string, PresenceRecord>();
  /** Syncs in flight per user: a user with one is never timed out to offline. */
  private readonly syncing = new Map<string, number>();
  private readonly lock = new KeyedLock();
  private readonly now: () => number;
  private readonly localListeners: Array<(userId: string, rec: PresenceRecord) => void> = [];

  constructor(private readonly deps: PresenceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Told of each visible change of a local user's presence, once written (federation: m.presence EDUs). */
  onLocalChange(listener: (userId: string, rec: PresenceRecord) => void): void {
    this.localListeners.push(listener);
  }

  /** Load the users who were not offline when the server stopped, so their timers run again. */
  async start(): Promise<void> {
    for (const { userId, record } of await this.deps.repo.all()) {
      if (record.state !== 'offline' && (this.deps.isLocal?.(userId) ?? true)) this.live.set(userId, record);
    }
  }

  /** The user's presence as clients see it now; offline for users never seen. */
  async get(userId: string): Promise<PresenceContent> {
    const rec = this.live.get(userId) ?? (await this.deps.repo.get(userId));
    return rec ? this.contentOf(rec) : { presence: 'offline' };
  }

  /** Records for many users (sync), offline ones included. */
  async records(userIds: string[]): Promise<Map<string, PresenceRecord>> {
    const out = new Map<string, PresenceRecord>();
    await Promise.all(
      userIds.map(async (u) => {
        const rec = this.live.get(u) ?? (await this.deps.repo.get(u));
        if (rec) out.set(u, rec);
      }),
    );
    return out;
  }

  contentOf(rec: PresenceRecord): PresenceContent {
    const c: PresenceContent = { presence: rec.state };
    if (rec.lastActiveTs > 0) c.last_active_ago = Math.max(0, this.now() - rec.lastActiveTs);
    if (rec.statusMsg !== undefined) c.status_msg = rec.statusMsg;
    // presence.md: currently_active accompanies `online` only.
    if (rec.state === 'online') c.currently_active = rec.currentlyActive;
    return c;
  }

  /** PUT /presence/{userId}/status: an explicit state; a missing status message clears it (Synapse). */
  set(userId: string, state: PresenceState, statusMsg: string | undefined): Promise<void> {
    return this.lock.run(userId, async () => {
      const prev = await this.current(userId);
      const now = this.now();
      // presence.yaml: setting the status counts as activity when the user says they are online.
      const lastActiveTs = state === 'online' ? now : prev.lastActiveTs;
      await this.write(userId, prev, {
        ...prev,
        state,
        statusMsg,
        lastActiveTs,
        currentlyActive: state === 'online',
      }, true);
    });
  }

  /**
   * A /sync began. `online` (the default) brings an offline user online; `unavailable`
   * marks them idle; `offline` leaves presence alone and does not count as syncing.
   * An explicit or idle `unavailable` is not overridden by a sync (only by activity).
   */
  syncStarted(userId: string, setPresence: PresenceState): Promise<void> | undefined {
    if (setPresence === 'offline') return undefined;
    this.syncing.set(userId, (this.syncing.get(userId) ?? 0) + 1);
    // A client syncing in a loop is already in the state its syncs ask for: only the time of
    // its last sync moves (as in syncEnded), with no lock and nothing to wait for.
    const rec = this.live.get(userId);
    if (rec && !this.lock.busy(userId) && (setPresence === 'online' ? rec.state !== 'offline' : rec.state === 'unavailable')) {
      rec.lastSyncTs = this.now();
      return undefined;
    }
    return this.lock.run(userId, async () => {
      const prev = await this.current(userId);
      const now = this.now();
      const next: PresenceRecord = { ...prev, lastSyncTs: now };
      if (setPresence === 'online' && prev.state === 'offline') {
        next.state = 'online';
        next.lastActiveTs = now;
        next.currentlyActive = true;
      } else if (setPresence === 'unavailable' && prev.state !== 'unavailable') {
        next.state = 'unavailable';
        next.currentlyActive = false;
      }
      await this.write(userId, prev, next, false);
    });
  }

  /** The /sync begun with syncStarted (not for `offline`) ended. */
  syncEnded(userId: string, setPresence: PresenceState): void {
    if (setPresence === 'offline') return;
    const n = (this.syncing.get(userId) ?? 1) - 1;
    if (n <= 0) this.syncing.delete(userId);
    else this.syncing.set(userId, n);
    const rec = this.live.get(userId);
    if (rec) rec.lastSyncTs = this.now();
  }

  /** A pro-active action (the user sent an event): idle users come back online (presence.md "Idle timeout"). */
  bumpActive(userId: string): Promise<void> {
    return this.lock.run(userId, async () => {
      const prev = await this.current(userId);
      const now = this.now();
      const next: PresenceRecord = { ...prev, lastActiveTs: now };
      if (prev.state === 'unavailable') next.state = 'online';
      next.currentlyActive = next.state === 'online';
      await this.write(userId, prev, next, false);
    });
  }

  /**
   * A remote user's presence from an m.presence EDU (server-server-api.md "Presence"): stored
   * and delivered to room-mates like a local change, but never timed here.
   */
  setRemote(userId: string, update: { state: PresenceState; statusMsg?: string; lastActiveAgo: number; currentlyActive: boolean }): Promise<void> {
    return this.lock.run(userId, async () => {
      const prev = (await this.deps.repo.get(userId)) ?? { state: 'offline', lastActiveTs: 0, lastSyncTs: 0, currentlyActive: false, stream: 0 };
      const next: PresenceRecord = {
        ...prev,
        state: update.state,
        statusMsg: update.statusMsg,
        lastActiveTs: this.now() - Math.max(0, update.lastActiveAgo),
        currentlyActive: update.state === 'online' && update.currentlyActive,
      };
      await this.write(userId, prev, next, false);
    });
  }

  /** Apply the timers: idle → unavailable, stale currently_active → false, no sync → offline. */
  async sweep(): Promise<void> {
    const now = this.now();
    const due: string[] = [];
    for (const [userId, rec] of this.live) {
      if (this.nextState(userId, rec, now) !== undefined) due.push(userId);
    }
    for (const userId of due) {
      await this.lock.run(userId, async () => {
        const prev = await this.current(userId);
        const next = this.nextState(userId, prev, this.now());
        if (next) await this.write(userId, prev, next, false);
      });
    }
  }

  private nextState(userId: string, rec: PresenceRecord, now: number): PresenceRecord | undefined {
    if (rec.state === 'offline') return undefined;
    const syncing = (this.syncing.get(userId) ?? 0) > 0;
    if (!syncing && now - Math.max(rec.lastSyncTs, rec.lastActiveTs) > SYNC_TIMEOUT_MS) {
      return { ...rec, state: 'offline', currentlyActive: false };
    }
    if (rec.state === 'online' && now - rec.lastActiveTs > IDLE_AFTER_MS) {
      return { ...rec, state: 'unavailable', currentlyActive: false };
    }
    if (rec.state === 'online' && rec.currentlyActive && now - rec.lastActiveTs > ACTIVE_GRANULARITY_MS) {
      return { ...rec, currentlyActive: false };
    }
    return undefined;
  }

  private async current(userId: string): Promise<PresenceRecord> {
    return (
      this.live.get(userId) ??
      (await this.deps.repo.get(userId)) ?? { state: 'offline', lastActiveTs: 0, lastSyncTs: 0, currentlyActive: false, stream: 0 }
    );
  }

  /**
   * Keep `next`: in memory always; durably, under a new stream position and with the
   * room-mates woken, when what clients see changed (or `force`, an explicit PUT).
   */
  private async write(userId: string, prev: PresenceRecord, next: PresenceRecord, force: boolean): Promise<void> {
    const visible =
      force || next.state !== prev.state || next.statusMsg !== prev.statusMsg || next.currentlyActive !== prev.currentlyActive;
    if (!visible) {
      this.remember(userId, next);
      return;
    }
    const rooms = await this.deps.joinedRooms(userId);
    await this.deps.stream.run(async (pos) => {
      const rec = { ...next, stream: pos };
      if (rec.statusMsg === undefined) delete rec.statusMsg;
      await this.deps.repo.put(userId, rec, prev.stream === 0 ? undefined : prev);
      this.remember(userId, rec);
      this.deps.notifier.notify(pos, { users: [userId], rooms });
      if (this.deps.isLocal?.(userId) ?? true) for (const l of this.localListeners) l(userId, rec);
    });
  }

  private remember(userId: string, rec: PresenceRecord): void {
    if (rec.state === 'offline' || !(this.deps.isLocal?.(userId) ?? true)) this.live.delete(userId);
    else this.live.set(userId, rec);
  }
}
