// Builds the sync module (sync, history reads, typing, receipts, account data,
// filters) from its parts, for main.ts and tests.
import type { RoomOutputs } from '../events/outputs.js';
import type { Route } from '../http/route.js';
import type { RoomReader } from '../rooms/types.js';
import { AccountDataRepo } from '../storage/accountDataRepo.js';
import type { Database } from '../storage/db.js';
import { FiltersRepo } from '../storage/filtersRepo.js';
import { ReceiptsRepo } from '../storage/receiptsRepo.js';
import { accountDataRoutes } from '../api/client/accountData.js';
import { contextRoutes } from '../api/client/context.js';
import { filterRoutes } from '../api/client/filters.js';
import { messagesRoutes } from '../api/client/messages.js';
import { receiptRoutes } from '../api/client/receipts.js';
import { syncRoutes } from '../api/client/sync.js';
import { typingRoutes } from '../api/client/typing.js';
import { IGNORED_USER_LIST } from '../messaging/ignoredUsers.js';
import { AccountDataService } from './accountData.js';
import { FilterService } from './filters.js';
import { SyncNotifier, type StreamWatch } from './notifier.js';
import { PaginationService } from './pagination.js';
import type { ClientEventFormatter, Clock, ReadMarkerListener, RelationsBundler, StreamPositions, UnreadCounter, VisibilityFilter } from './ports.js';
import { PlainUnreadCounter } from './unread.js';
import { ReceiptService } from './receipts.js';
import { RoomsSync, type RoomsSyncDeps } from './roomsSync.js';
import { EventSerializer } from './serialize.js';
import { SharedAnswers } from './sharedAnswers.js';
import { SyncService } from './syncService.js';
import { TypingService } from './typing.js';

export interface SyncModuleDeps {
  db: Database;
  stream: StreamPositions & StreamWatch;
  reader: RoomReader;
  outputs: RoomOutputs;
  /** rooms/visibility.ts HistoryVisibility.filter. */
  visible: VisibilityFilter;
  /** events/clientEvent.ts toClientEvent. */
  format: ClientEventFormatter;
  /** messaging/aggregations.ts: unsigned.m.relations on served events. */
  bundle?: RelationsBundler;
  /** messaging/ignoredUsers.ts: hides invites from ignored users. */
  ignored?: { of(userId: string): Promise<ReadonlySet<string>>; peek(userId: string): ReadonlySet<string> | undefined; forget?(userId: string): void };
  /** Unread counts for /sync (push/pushModule.ts); without it, a plain counter of messages since the read receipt. */
  unread?: UnreadCounter;
  /** Told when a read receipt moves (push/pushModule.ts receiptMoved). */
  onRead?: ReadMarkerListener;
  now?: Clock;
  /** See RoomsSyncDeps.windowCap (tests lower it to exercise the per-room path). */
  windowCap?: number;
  /** See SharedAnswersDeps.shareMs. */
  shareMs?: number;
  /** See RoomsSyncDeps.partialState (rooms joined with partial state, MSC3706). */
  partialState?: RoomsSyncDeps['partialState'];
}

export interface SyncModule {
  routes: Route<unknown, unknown>[];
  notifier: SyncNotifier;
  sync: SyncService;
  shared: SharedAnswers;
  accountData: AccountDataService;
  receipts: ReceiptService;
  typing: TypingService;
  filters: FilterService;
  pagination: PaginationService;
  /** Release held long-polls and timers, and refuse new syncs (shutdown). */
  close(): void;
  /** Resolves once no sync is being computed: await it before the database closes. */
  idle(): Promise<void>;
}

export function createSyncModule(deps: SyncModuleDeps): SyncModule {
  const { db, stream, reader } = deps;
  const now = deps.now ?? Date.now;
  const notifier = new SyncNotifier(stream, now);
  notifier.attach(deps.outputs);
  const accountData = new AccountDataService({ repo: new AccountDataRepo(db), stream, notifier });
  const ignored = deps.ignored;
  if (ignored?.forget) {
    accountData.onChange((userId, roomId, type) => {
      if (roomId === '' && type === IGNORED_USER_LIST) ignored.forget?.(userId);
    });
  }
  const receipts = new ReceiptService({ repo: new ReceiptsRepo(db), reader, stream, notifier, accountData, onRead: deps.onRead, now });
  const unread = deps.unread ?? new PlainUnreadCounter(reader, receipts);
  const typing = new TypingService({ reader, stream, notifier, now });
  const filters = new FilterService(new FiltersRepo(db));
  const serializer = new EventSerializer(deps.format, deps.bundle);
  const rooms = new RoomsSync({
    reader,
    visible: deps.visible,
    serializer,
    receipts,
    typing,
    unread,
    windowCap: deps.windowCap,
    ignored: deps.ignored,
    roomAccountData: (userId, roomId, upTo) => accountData.ofRoomForSync(userId, roomId, upTo),
    ...(deps.partialState ? { partialState: deps.partialState } : {}),
  });
  deps.outputs.subscribe((out) => {
    if (out.kind === 'redaction') rooms.forgetWindows();
  });
  const shared = new SharedAnswers({
    newEvents: (since, upTo) => rooms.newEvents(since, upTo),
    readNewEvents: (since, upTo) => rooms.readNewEvents(since, upTo),
    unread,
    ignored,
    now,
    shareMs: deps.shareMs,
  });
  const sync = new SyncService({ rooms, accountData, notifier, stream, shared, now });
  const pagination = new PaginationService({ reader, visible: deps.visible, serializer, stream, now });
  return {
    routes: [
      ...syncRoutes({ sync, filters }),
      ...filterRoutes({ filters }),
      ...messagesRoutes({ pagination }),
      ...contextRoutes({ pagination }),
      ...typingRoutes({ typing }),
      ...receiptRoutes({ receipts }),
      ...accountDataRoutes({ accountData }),
    ],
    notifier,
    sync,
    shared,
    accountData,
    receipts,
    typing,
    filters,
    pagination,
    close() {
      sync.close();
      notifier.close();
      typing.close();
    },
    idle: () => sync.idle(),
  };
}
