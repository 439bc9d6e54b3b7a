// Builds presence (service, /sync section, endpoints, timers) for main.ts and tests.
// With presence turned off (config presence.enabled: false) nothing is tracked: the
// endpoints answer `offline` and /sync carries no presence events (as Synapse's use_presence).
import type { RoomOutputs } from '../events/outputs.js';
import type { Route } from '../http/route.js';
import { presenceRoutes, type PresenceApi } from '../api/client/presence.js';
import type { RoomReader } from '../rooms/types.js';
import type { Database } from '../storage/db.js';
import { PresenceRepo } from '../storage/presenceRepo.js';
import type { ChangeKeys } from '../sync/notifier.js';
import type { SyncService } from '../sync/syncService.js';
import { PresenceService } from './presenceService.js';
import { PresenceSync } from './presenceSync.js';

/** How often the idle/offline timers are applied. */
const SWEEP_EVERY_MS = 5_000;

export interface PresenceModuleDeps {
  db: Database;
  enabled: boolean;
  serverName: string;
  reader: Pick<RoomReader, 'roomsOfUser' | 'members'>;
  outputs: RoomOutputs;
  stream: { run<T>(write: (pos: number) => Promise<T>): Promise<T> };
  notifier: { notify(pos: number, changed: ChangeKeys): void };
  sync: Pick<SyncService, 'addExtension' | 'addRequestHook'>;
  now?: () => number;
  onError?: (err: unknown, what: string) => void;
}

export interface PresenceModule {
  routes: Route<unknown, unknown>[];
  /** undefined when presence is turned off. */
  service: PresenceService | undefined;
  start(): Promise<void>;
  /** Resolves once activity noticed so far (sent events) is written. */
  idle(): Promise<void>;
  /** Stop the timers and let pending activity writes finish. */
  close(): Promise<void>;
}

export function createPresenceModule(deps: PresenceModuleDeps): PresenceModule {
  const { reader } = deps;
  const onError = deps.onError ?? (() => undefined);
  const joinedRooms = async (userId: string) =>
    (await reader.roomsOfUser(userId)).filter((r) => r.member.membership === 'join').map((r) => r.roomId);
  const mayObserve = async (observer: string, target: string) => {
    if (observer === target) return true;
    const mine = new Set(await joinedRooms(observer));
    return (await joinedRooms(target)).some((r) => mine.has(r));
  };

  if (!deps.enabled) {
    const off: PresenceApi = { get: async () => ({ presence: 'offline' }), set: async () => undefined, mayObserve };
    return { routes: presenceRoutes(off), service: undefined, start: async () => undefined, idle: async () => undefined, close: async () => undefined };
  }

  const repo = new PresenceRepo(deps.db);
  const service = new PresenceService({
    repo,
    stream: deps.stream,
    notifier: deps.notifier,
    joinedRooms,
    isLocal: (userId) => userId.endsWith(`:${deps.serverName}`),
    ...(deps.now ? { now: deps.now } : {}),
  });
  deps.sync.addExtension(new PresenceSync({ presence: service, repo, reader }));
  // A presence failure must never fail the /sync it rides on.
  deps.sync.addRequestHook({
    syncStarted: (userId, setPresence) => service.syncStarted(userId, setPresence)?.catch((err) => onError(err, 'presence on sync')),
    syncEnded: (userId, setPresence) => service.syncEnded(userId, setPresence),
  });
  // presence.md "Last active ago": sending a message is a pro-active event (state events are
  // often sent by the server on the user's behalf, e.g. profile changes, so they don't count).
  const localSuffix = `:${deps.serverName}`;
  const pending = new Set<Promise<void>>();
  const idle = async () => {
    while (pending.size > 0) await Promise.all([...pending]);
  };
  deps.outputs.subscribe((out) => {
    if (out.kind !== 'new_event') return;
    const { pdu } = out.event;
    if (pdu.state_key !== undefined || !pdu.sender.endsWith(localSuffix)) return;
    const write = service.bumpActive(pdu.sender).catch((err) => onError(err, 'presence activity'));
    pending.add(write);
    void write.finally(() => pending.delete(write));
  });

  let timer: NodeJS.Timeout | undefined;
  let sweeping = false;
  return {
    routes: presenceRoutes({ get: (u) => service.get(u), set: (u, s, m) => service.set(u, s, m), mayObserve }),
    service,
    async start() {
      await service.start();
      timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        service
          .sweep()
          .catch((err) => onError(err, 'presence timers'))
          .finally(() => (sweeping = false));
      }, SWEEP_EVERY_MS);
      timer.unref();
    },
    idle,
    async close() {
      clearInterval(timer);
      await idle();
    },
  };
}
