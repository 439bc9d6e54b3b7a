// GET /sync: builds the response for the window (since, upTo] where upTo is the stream's
// readable position, and long-polls when there is nothing to say.
// Spec: client-server-api/_index.md "Syncing"; data/api/client-server/sync.yaml.
import type { AccountDataEntry } from '../storage/accountDataRepo.js';
import type { AccountDataService } from './accountData.js';
import type { CompiledFilter } from './filterMatch.js';
import type { SyncNotifier } from './notifier.js';
import type { Clock, Viewer } from './ports.js';
import type { RoomsSection, RoomsSync, WaitedRooms } from './roomsSync.js';
import type { BuiltRooms, SharedAnswers } from './sharedAnswers.js';
import { unknown } from '../http/errors.js';
import type { JsonText } from '../http/jsonText.js';
import { Lru } from '../storage/lru.js';
import { PairKeys } from '../storage/pairKeys.js';
import { NO_COUNTS, NO_DEVICE_LIST_CHANGES, NO_EVENTS } from './emptyParts.js';
import { encodeToken } from './token.js';

/** Devices remembered as having had a /sync built (a few dozen bytes each). */
const BUILT_DEVICES = 50_000;

/** Longest a /sync may be held, whatever timeout the client asks for. */
export const MAX_SYNC_TIMEOUT_MS = 120_000;
const NO_ACCOUNT_DATA: readonly AccountDataEntry[] = Object.freeze([]);
const NO_ROOM_ACCOUNT_DATA: ReadonlyMap<string, AccountDataEntry[]> = new Map();

export interface SyncParams {
  viewer: Viewer;
  since: number | undefined;
  fullState: boolean;
  filter: CompiledFilter;
  timeoutMs: number;
  /** The `set_presence` parameter; absent means `online` (sync.yaml). */
  setPresence?: 'online' | 'offline' | 'unavailable';
}

/** Told when a /sync request starts and ends (presence: set_presence, "the user is syncing"). */
export interface SyncRequestHook {
  /** A promise when the sync must wait for something first. */
  syncStarted(userId: string, setPresence: 'online' | 'offline' | 'unavailable'): Promise<void> | undefined;
  syncEnded(userId: string, setPresence: 'online' | 'offline' | 'unavailable'): void;
}

/** What an extension (to-device, device lists, presence…) sees of a sync. */
export interface ExtensionWindow {
  viewer: Viewer;
  since: number | undefined;
  upTo: number;
  fullState: boolean;
  filter: CompiledFilter;
}

/**
 * Another module's part of the /sync response. `fields` are merged into the top level
 * (replacing the empty placeholders); `hasNews` says whether they hold anything the
 * client has not seen, which ends a long-poll. Wake a held sync with SyncNotifier.notify.
 */
export interface SyncExtension {
  contribute(w: ExtensionWindow): Promise<{ fields: Record<string, unknown>; hasNews: boolean }>;
  /**
   * The fields of a woken sync's window in which nothing was announced for the viewer or for
   * any room they are joined to (SyncNotifier.quiet over all of them): what `contribute`
   * would give, when the extension can tell it from memory; undefined to have it run.
   */
  quietFields?(w: QuietWindow): Record<string, unknown> | undefined;
}

/** A woken sync's window (since, upTo] with nothing announced for the viewer or `roomIds`, every room they are joined to. */
export interface QuietWindow {
  viewer: Viewer;
  since: number;
  roomIds: readonly string[];
}

export interface SyncServiceDeps {
  rooms: RoomsSync;
  accountData: Pick<AccountDataService, 'forSync'>;
  notifier: Pick<SyncNotifier, 'wait' | 'knows' | 'quiet'>;
  stream: { readonly persisted: number };
  /** Woken syncs with the same rooms section build it once (sharedAnswers.ts). */
  shared?: Pick<SharedAnswers, 'rooms' | 'roomsNow' | 'turn' | 'text'>;
  now?: Clock;
}

export class SyncService {
  private readonly extensions: SyncExtension[] = [];
  private readonly hooks: SyncRequestHook[] = [];
  /** Devices that have had a /sync built in this process (see run). */
  private readonly built = new Lru<string, true>(BUILT_DEVICES);
  private readonly devices = new PairKeys();
  private readonly now: Clock;
  /** Syncs being computed: shutdown waits for them before the database closes. */
  private active = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly ended = () => {
    if (--this.active > 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  };

  constructor(private readonly deps: SyncServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  addExtension(ext: SyncExtension): void {
    this.extensions.push(ext);
  }

  addRequestHook(hook: SyncRequestHook): void {
    this.hooks.push(hook);
  }

  /** Shutdown: refuse new syncs (held ones are released by the notifier's close). */
  close(): void {
    this.closed = true;
  }

  /** Resolves once no sync is being computed (after close, so that none starts again). */
  idle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  sync(p: SyncParams): Promise<Record<string, unknown> | JsonText> {
    // As Synapse while stopping: the client retries against the restarted server.
    if (this.closed) return Promise.reject(unknown('The server is shutting down', 503));
    this.active++;
    const run = this.run(p);
    void run.then(this.ended, this.ended);
    return run;
  }

  /** One async frame for the whole request: a held sync keeps every frame it awaits in. */
  private async run(p: SyncParams): Promise<Record<string, unknown> | JsonText> {
    const setPresence = p.setPresence ?? 'online';
    for (const h of this.hooks) {
      const started = h.syncStarted(p.viewer.userId, setPresence);
      if (started) await started;
    }
    try {
      // sync.yaml: full_state ignores the timeout; an initial sync never waits (as Synapse).
      const mayWait = p.since !== undefined && !p.fullState && p.timeoutMs > 0;
      const deadline = this.now() + Math.min(p.timeoutMs, MAX_SYNC_TIMEOUT_MS);
      let since = p.since;
      // As Synapse: when nothing was announced for this user or their rooms after the token,
      // wait before building — a long-poll placed right after the previous response would
      // otherwise build an empty answer first (every receiver of a message, once more per message).
      // A device's first sync in this process still builds at once: its cold reads (keys, room
      // list, queues) then happen while nothing waits on them, not when a message wakes thousands.
      const device = this.devices.of(p.viewer.userId, p.viewer.deviceId);
      // The rooms waited on, once woken: the answer may share its rooms section with others woken alike.
      let woken: WaitedRooms | undefined;
      if (mayWait && since !== undefined && this.deps.notifier.knows(since) && this.built.get(device)) {
        const rooms = await this.deps.rooms.joinedRoomIds(p.viewer, p.filter);
        const outcome = await this.deps.notifier.wait({ userId: p.viewer.userId, roomIds: rooms.roomIds, since, timeoutMs: deadline - this.now() });
        if (outcome !== 'woken') return (await this.build(p, since, this.deps.stream.persisted)).response;
        woken = rooms;
      }
      for (;;) {
        const upTo = this.deps.stream.persisted;
        const w = woken && since !== undefined ? this.wokenWindow(p, since, woken) : undefined;
        let built: Built | undefined = w ? (this.buildNow(p, upTo, w) ?? (await this.buildWoken(p, upTo, w))) : await this.build(p, since, upTo);
        if (!this.built.get(device)) this.built.set(device, true);
        const remaining = deadline - this.now();
        if (!built.empty || !mayWait || remaining <= 0) return built.response;
        // Nothing for this user in (since, upTo]: waiting from upTo is the same as the
        // client having synced to upTo, and spares re-reading the window.
        since = upTo;
        const rooms = await this.deps.rooms.waited(p.viewer, built.joinedRoomIds);
        // Not kept while held (thousands may be): a released sync builds its answer afresh.
        built = undefined;
        const outcome = await this.deps.notifier.wait({ userId: p.viewer.userId, roomIds: rooms.roomIds, since: upTo, timeoutMs: remaining });
        // Timed out, or released at shutdown (the database stays open until syncs are idle).
        if (outcome !== 'woken') return (await this.build(p, since, this.deps.stream.persisted)).response;
        woken = rooms;
      }
    } finally {
      for (const h of this.hooks) h.syncEnded(p.viewer.userId, setPresence);
    }
  }

  /** What a released long-poll's window (since, upTo] lets its answer skip: worked out once per answer. */
  private wokenWindow(p: SyncParams, since: number, rooms: WaitedRooms): WokenWindow {
    // Nothing announced for the user or the rooms waited on: only their room events are new.
    const roomsQuiet = this.deps.notifier.quiet(p.viewer.userId, rooms.roomIds, since);
    // And those are all the user's rooms (a message woke a room's members): no account data
    // changed, and extensions may answer from memory.
    const quiet: QuietWindow | undefined = roomsQuiet && rooms.all ? { viewer: p.viewer, since, roomIds: rooms.roomIds } : undefined;
    return { since, rooms, roomsQuiet, quiet, known: quiet && this.extensions.map((ext) => ext.quietFields?.(quiet)) };
  }

  /**
   * A woken sync's answer without an await, when its window is quiet, its rooms section is a
   * group's made moments ago (SharedAnswers.roomsNow) and every extension answers from memory:
   * most of the syncs one message wakes. Otherwise undefined, and `build` answers.
   */
  private buildNow(p: SyncParams, upTo: number, w: WokenWindow): Built | undefined {
    if (!this.deps.shared || !fromMemory(w)) return undefined;
    const rooms = this.deps.shared.roomsNow({ viewer: p.viewer, since: w.since, upTo, filter: p.filter, roomIds: w.rooms.roomIds, quiet: true, roomAccountData: NO_ROOM_ACCOUNT_DATA });
    if (!rooms) return undefined;
    const response = answerOf(upTo, rooms.rooms, NO_ACCOUNT_DATA);
    for (const f of w.known) Object.assign(response, f);
    return this.finish(response, rooms, NO_ACCOUNT_DATA, false);
  }

  /**
   * A woken sync `buildNow` could not answer. If it could be answered from memory but for a
   * room entry another sync of its window is building, it waits for that one and tries
   * again (SharedAnswers.turn); else it builds.
   */
  private async buildWoken(p: SyncParams, upTo: number, w: WokenWindow): Promise<Built> {
    if (!this.deps.shared || !fromMemory(w)) return this.build(p, w.since, upTo, w);
    const turn = this.deps.shared.turn(w.since, upTo, p.filter);
    if (turn.wait) {
      await turn.wait;
      // What was announced meanwhile is after upTo, but counts against a quiet window all the same.
      const again = this.wokenWindow(p, w.since, w.rooms);
      return this.buildNow(p, upTo, again) ?? this.build(p, w.since, upTo, again);
    }
    try {
      return await this.build(p, w.since, upTo, w);
    } finally {
      turn.done();
    }
  }

  /** `w`: the window of a released long-poll, whose rooms section may then be shared (sharedAnswers.ts). */
  private async build(p: SyncParams, since: number | undefined, upTo: number, w?: WokenWindow): Promise<Built> {
    const now = this.now();
    const accountData = w?.quiet ? NO_ACCOUNT_DATA : await this.deps.accountData.forSync(p.viewer.userId, since, upTo);
    const global: AccountDataEntry[] = [];
    let byRoom = NO_ROOM_ACCOUNT_DATA;
    if (accountData.length > 0) {
      const lists = new Map<string, AccountDataEntry[]>();
      for (const e of accountData) {
        if (e.roomId === '') global.push(e);
        else {
          let list = lists.get(e.roomId);
          if (!list) lists.set(e.roomId, (list = []));
          list.push(e);
        }
      }
      byRoom = lists;
    }
    const window = { viewer: p.viewer, since, upTo, fullState: p.fullState, filter: p.filter, now, roomAccountData: byRoom };
    const buildRooms = () => this.deps.rooms.build(window);
    const built: BuiltRooms =
      w && this.deps.shared
        ? await this.deps.shared.rooms({ viewer: p.viewer, since: w.since, upTo, filter: p.filter, roomIds: w.rooms.roomIds, quiet: w.roomsQuiet, roomAccountData: byRoom }, buildRooms)
        : await buildRooms();
    const af = p.filter.accountData;
    let accountDataEvents = global.filter((e) => af.matches({ type: e.type })).map((e) => ({ type: e.type, content: e.content }));
    if (af.limit !== undefined) accountDataEvents = accountDataEvents.slice(0, af.limit);

    const response = answerOf(upTo, built.rooms, accountDataEvents);
    let extensionNews = false;
    for (const [i, ext] of this.extensions.entries()) {
      const known = w?.known?.[i];
      if (known) {
        Object.assign(response, known);
        continue;
      }
      const { fields, hasNews } = await ext.contribute({ viewer: p.viewer, since, upTo, fullState: p.fullState, filter: p.filter });
      Object.assign(response, fields);
      extensionNews ||= hasNews;
    }
    return this.finish(response, built, accountDataEvents, extensionNews);
  }

  private finish(response: Record<string, unknown>, built: BuiltRooms, accountDataEvents: readonly unknown[], extensionNews: boolean): Built {
    const { rooms, joinedRoomIds, shared } = built;
    const empty =
      !extensionNews &&
      accountDataEvents.length === 0 &&
      Object.keys(rooms.join).length === 0 &&
      Object.keys(rooms.invite).length === 0 &&
      Object.keys(rooms.leave).length === 0 &&
      Object.keys(rooms.knock).length === 0;
    // A shared rooms section: the whole text may be an earlier answer's (sharedAnswers.ts).
    if (shared && this.deps.shared) return { response: this.deps.shared.text(shared, response), empty, joinedRoomIds };
    return { response, empty, joinedRoomIds };
  }
}

/** A released long-poll's window (since, upTo]: the rooms it waited on, and what it may skip. */
interface WokenWindow {
  since: number;
  rooms: WaitedRooms;
  /** SyncNotifier.quiet for the user and the rooms waited on. */
  roomsQuiet: boolean;
  /** Set when those rooms are all the user's: no account data changed. */
  quiet?: QuietWindow;
  /** Each extension's quietFields for `quiet` (undefined where it cannot tell from memory). */
  known?: Array<Record<string, unknown> | undefined>;
}

/** Whether every extension answers the window from memory (then so may the whole answer). */
function fromMemory(w: WokenWindow): w is WokenWindow & { known: Array<Record<string, unknown>> } {
  return w.known !== undefined && w.known.every((f) => f !== undefined);
}

/** An answer, and whether it holds nothing new (then a long-poll goes on waiting). */
interface Built {
  response: Record<string, unknown> | JsonText;
  empty: boolean;
  joinedRoomIds: string[];
}

/**
 * The answer's top level before the extensions' fields. The placeholders stand until presence
 * and E2EE add theirs; empty parts are shared read-only values (a woken answer allocates only
 * what it has).
 */
function answerOf(upTo: number, rooms: RoomsSection, accountDataEvents: readonly unknown[]): Record<string, unknown> {
  return {
    next_batch: encodeToken(upTo),
    rooms,
    account_data: accountDataEvents.length === 0 ? NO_EVENTS : { events: accountDataEvents },
    presence: NO_EVENTS,
    to_device: NO_EVENTS,
    device_lists: NO_DEVICE_LIST_CHANGES,
    device_one_time_keys_count: NO_COUNTS,
  };
}
