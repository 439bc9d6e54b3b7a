// Builds the push module (rules, evaluation and counts, pushers, delivery, routes) for
// main.ts and tests. Integration points for other modules: `unreadCounts` (for /sync),
// `receiptMoved` (after a read receipt is stored), `pushers.removeForDevice` / `removeAll`
// (logout, deactivation), and the `accountData` port through which `m.push_rules` reaches
// clients.
import { pushRuleRoutes } from '../api/client/pushRules.js';
import { pusherRoutes } from '../api/client/pushers.js';
import type { RoomOutputs } from '../events/outputs.js';
import type { Route } from '../http/route.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { Database } from '../storage/db.js';
import { NotificationsRepo } from '../storage/notificationsRepo.js';
import { PushersRepo } from '../storage/pushersRepo.js';
import { PushRulesRepo } from '../storage/pushRulesRepo.js';
import type { UnreadCounter } from '../sync/ports.js';
import { summarise, unreadForSync, type CountsSummary } from './counts.js';
import { CountsCache } from './countsCache.js';
import { PushDelivery, type Backoff } from './delivery.js';
import { NotificationList, type Viewer } from './notificationList.js';
import { PusherService } from './pushers.js';
import { PushRulesService, type PushRulesAccountData } from './pushRulesService.js';
import { PushWorker } from './pushWorker.js';
import { SharedEvaluator } from './sharedEvaluation.js';

export interface PushModuleDeps {
  db: Database;
  reader: RoomReader;
  outputs: RoomOutputs;
  stream: { readonly persisted: number };
  serverName: string;
  /** events/clientEvent.ts toClientEvent (GET /notifications). */
  format(ev: StoredEvent, viewer: Viewer, now: number): Record<string, unknown>;
  /** The sync module's account data service, for `m.push_rules`. */
  accountData?: PushRulesAccountData;
  /** Keep the body-mention default rules the spec removed in v1.17. */
  legacyMentionRules?: boolean;
  /** Accept plain-HTTP push gateways off the loopback interface. */
  allowHttpGateways?: boolean;
  fetch?: typeof fetch;
  backoff?: Backoff;
  now?: () => number;
  onError?: (err: unknown, what: string) => void;
  /** See PushWorkerDeps.answered. */
  answered?: () => Promise<void>;
}

export interface PushModule {
  routes: Route<unknown, unknown>[];
  rules: PushRulesService;
  pushers: PusherService;
  worker: PushWorker;
  delivery: PushDelivery;
  /**
   * A room's unread counts for /sync. With `upTo` (the sync's position), first waits
   * (briefly) until every event up to it has been evaluated, so that a new event and
   * its count arrive in the same response (push.md "Server behaviour").
   */
  unreadCounts(userId: string, roomId: string, opts?: { upTo?: number }): Promise<CountsSummary>;
  /** unreadCounts with `upTo` when it needs no wait and no read (every event up to it counted, the pair in memory); else undefined. */
  unreadCountsNow(userId: string, roomId: string, upTo: number): CountsSummary | undefined;
  /** Call after a read receipt (m.read / m.read.private) is stored; resolves once counts are reset durably. */
  receiptMoved(userId: string, roomId: string, eventId: string, threadId?: string): Promise<void>;
  /** Load the cursor, catch up on events and deliveries missed while stopped. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createPushModule(deps: PushModuleDeps): PushModule {
  const notifications = new NotificationsRepo(deps.db);
  const counts = new CountsCache(notifications);
  const pushersRepo = new PushersRepo(deps.db);
  const rules = new PushRulesService({
    repo: new PushRulesRepo(deps.db),
    accountData: deps.accountData,
    defaults: { legacyMentions: deps.legacyMentionRules },
  });
  const pushers = new PusherService({
    repo: pushersRepo,
    latestNotification: (userId) => notifications.latestStream(userId),
    allowHttp: deps.allowHttpGateways,
    now: deps.now,
  });
  const delivery = new PushDelivery({
    pushers,
    cursors: pushersRepo,
    notifications,
    unreadRooms: async (userId) => {
      const rooms = await notifications.roomsOfUser(userId);
      const all = await Promise.all(rooms.map((roomId) => counts.get(userId, roomId)));
      return all.filter((c) => Object.values(c.threads).some((t) => t.n > 0)).length;
    },
    reader: deps.reader,
    fetch: deps.fetch,
    backoff: deps.backoff,
    now: deps.now,
    onError: deps.onError,
  });
  const worker = new PushWorker({
    reader: deps.reader,
    repo: notifications,
    counts,
    rules,
    shared: new SharedEvaluator({ legacyMentions: deps.legacyMentionRules }),
    stream: deps.stream,
    serverName: deps.serverName,
    now: deps.now,
    onNotified: (users) => delivery.poke(users),
    onRead: (users) => delivery.badge(users),
    ...(deps.answered ? { answered: deps.answered } : {}),
    onError: deps.onError,
  });
  worker.attach(deps.outputs);
  const list = new NotificationList({
    repo: notifications,
    reader: deps.reader,
    format: deps.format,
    now: deps.now,
    caughtUp: () => worker.caughtUp(deps.stream.persisted),
  });
  return {
    routes: [...pushRuleRoutes({ rules }), ...pusherRoutes({ pushers, notifications: list })],
    rules,
    pushers,
    worker,
    delivery,
    unreadCountsNow(userId, roomId, upTo) {
      if (!worker.hasCounted(upTo)) return undefined;
      const inMemory = counts.peek(userId, roomId);
      return inMemory && summarise(inMemory);
    },
    async unreadCounts(userId, roomId, opts = {}) {
      if (opts.upTo !== undefined) {
        await worker.countedUpTo(opts.upTo);
        // Counts in memory hold every counted event; a pair read from storage only the durable ones.
        const inMemory = counts.peek(userId, roomId);
        if (inMemory) return summarise(inMemory);
        await worker.caughtUp(opts.upTo);
      }
      return summarise(await counts.get(userId, roomId));
    },
    receiptMoved: (userId, roomId, eventId, threadId) => worker.receiptMoved(userId, roomId, eventId, threadId),
    async start() {
      await worker.start();
      const all = await pushersRepo.all();
      pushers.loaded(all);
      delivery.resume(all);
    },
    async close() {
      await worker.close();
      await delivery.close();
    },
  };
}

/**
 * The sync module's unread counts from a push module that is made after it (`push` is only
 * called once requests flow): in memory when counted, else from storage.
 */
export function syncUnreadCounter(push: () => Pick<PushModule, 'unreadCountsNow' | 'unreadCounts'>): UnreadCounter {
  return {
    forSync: async (userId, roomId, upTo, threaded) =>
      unreadForSync(push().unreadCountsNow(userId, roomId, upTo) ?? (await push().unreadCounts(userId, roomId, { upTo })), threaded),
    forSyncNow(userId, roomId, upTo, threaded) {
      const counts = push().unreadCountsNow(userId, roomId, upTo);
      return counts && unreadForSync(counts, threaded);
    },
  };
}
