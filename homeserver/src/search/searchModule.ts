// Builds server-side search (index, indexer, POST /search) for main.ts and tests.
import { searchRoutes } from '../api/client/search.js';
import type { RoomOutputs } from '../events/outputs.js';
import type { Route } from '../http/route.js';
import type { RoomReader } from '../rooms/types.js';
import type { Database } from '../storage/db.js';
import { SearchRepo } from '../storage/searchRepo.js';
import type { ClientEventFormatter, VisibilityFilter } from '../sync/ports.js';
import { SearchIndexer } from './searchIndexer.js';
import { SearchService } from './searchService.js';

export interface SearchModuleDeps {
  db: Database;
  reader: RoomReader;
  outputs: RoomOutputs;
  stream: { readonly persisted: number; onAdvance(listener: (persisted: number) => void): void };
  /** The room's short ID (rooms.storage.ids.room). */
  roomShort: (roomId: string) => Promise<number | undefined>;
  visible: VisibilityFilter;
  format: ClientEventFormatter;
  onError?: (err: unknown, what: string) => void;
}

export interface SearchModule {
  routes: Route<unknown, unknown>[];
  service: SearchService;
  indexer: SearchIndexer;
  /** Catch up with events the index has not seen (after a crash), then follow new ones. */
  start(): Promise<void>;
}

export function createSearchModule(deps: SearchModuleDeps): SearchModule {
  const repo = new SearchRepo(deps.db, deps.roomShort);
  const indexer = new SearchIndexer({ repo, reader: deps.reader, stream: deps.stream, ...(deps.onError ? { onError: deps.onError } : {}) });
  const service = new SearchService({ repo, reader: deps.reader, visible: deps.visible, format: deps.format });
  return {
    routes: searchRoutes(service),
    service,
    indexer,
    start: () => indexer.start(deps.outputs),
  };
}
