// matrix-js-sdk clients for spec tests. The polyfill must load first.
import './polyfill.js';
import type { ICreateClientOpts, MatrixClient, MatrixEvent, Room } from 'matrix-js-sdk';
import type { HasBaseUrl, User } from './http.js';
import { sleep } from './util.js';

const sdk = await import('matrix-js-sdk');
const { logger: globalLogger } = await import('matrix-js-sdk/lib/logger.js');

const verbose = process.env.PARLEY_SPEC_SDK_LOG === '1';
// The SDK logs a great deal at debug level; keep only what is asked for.
(globalLogger as unknown as { setLevel?: (level: string) => void }).setLevel?.(verbose ? 'debug' : 'silent');
// Child loggers (e.g. MatrixRTCSession's, one per room) set themselves to debug level but copy the
// root's methodFactory, so without this they print through console.debug regardless of the above.
if (!verbose) {
  const root = globalLogger as unknown as { methodFactory?: unknown; rebuild?: () => void };
  root.methodFactory = () => () => undefined;
  root.rebuild?.();
}

interface QuietLogger {
  getChild(namespace: string): QuietLogger;
  trace(...msg: unknown[]): void;
  debug(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  error(...msg: unknown[]): void;
}

function makeLogger(prefix: string): QuietLogger {
  const out = (level: string) => (...msg: unknown[]): void => {
    if (verbose) console.error(`[sdk ${prefix}] ${level}`, ...msg);
  };
  return {
    getChild: (ns: string) => makeLogger(`${prefix}/${ns}`),
    trace: out('trace'),
    debug: out('debug'),
    info: out('info'),
    warn: out('warn'),
    error: out('error'),
  };
}

export interface TestClient {
  readonly client: MatrixClient;
  readonly user: User;
  /** startClient() then wait for the PREPARED sync state. */
  start(opts?: { initialSyncLimit?: number; timeoutMs?: number }): Promise<void>;
  waitForPrepared(timeoutMs?: number): Promise<void>;
  /** The room as this client sees it, waiting for it to appear (optionally until `pred` holds). */
  waitForRoom(roomId: string, description: string, pred?: (room: Room) => boolean, timeoutMs?: number): Promise<Room>;
  /** Waits for a timeline event in `roomId` that satisfies `pred`. */
  waitForEvent(roomId: string, description: string, pred: (ev: MatrixEvent) => boolean, timeoutMs?: number): Promise<MatrixEvent>;
  /** Polls `check` against the client's state until truthy. */
  waitFor<T>(description: string, check: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  stop(): void;
}

export const DEFAULT_WAIT_MS = 10_000;

function allEvents(room: Room): MatrixEvent[] {
  const seen = new Set<MatrixEvent>();
  for (const timeline of room.getUnfilteredTimelineSet().getTimelines()) {
    for (const ev of timeline.getEvents()) seen.add(ev);
  }
  return [...seen];
}

function summarise(room: Room | null): string {
  if (room === null) return '(room not known to this client)';
  const evs = allEvents(room).slice(-12);
  return evs
    .map((e) => {
      const c = e.getContent() as { body?: unknown; membership?: unknown };
      const detail = c.body !== undefined ? ` body=${JSON.stringify(c.body)}` : c.membership !== undefined ? ` membership=${String(c.membership)}` : '';
      return `  ${e.getType()} from ${e.getSender()}${detail}${e.isRedacted() ? ' (redacted)' : ''}`;
    })
    .join('\n');
}

export interface MakeClientOptions {
  /** Sees every request the SDK makes (path relative to the base URL, body as sent), before it is sent. */
  onRequest?: (method: string, path: string, body: unknown) => void;
  /** More options for createClient (e.g. cryptoCallbacks); the server, user and fetch are the harness's. */
  createOpts?: Partial<ICreateClientOpts>;
}

export function makeClient(server: HasBaseUrl, user: User, opts: MakeClientOptions = {}): TestClient {
  // Remember the SDK's failed requests so a timeout can say what the server refused.
  const failures: string[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const method = init?.method ?? 'GET';
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const path = url.replace(server.baseUrl, '').replace(/access_token=[^&]*/, 'access_token=…');
    opts.onRequest?.(method, path, init?.body);
    try {
      const res = await fetch(input, init);
      if (res.status >= 400) {
        const text = await res.clone().text().catch(() => '');
        failures.push(`${method} ${path} → HTTP ${res.status} ${text.slice(0, 200)}`);
        if (failures.length > 8) failures.shift();
      }
      return res;
    } catch (err) {
      if ((err as Error).name !== 'AbortError') {
        failures.push(`${method} ${path} → ${(err as Error).message}`);
        if (failures.length > 8) failures.shift();
      }
      throw err;
    }
  };
  const client = sdk.createClient({
    ...opts.createOpts,
    fetchFn,
    baseUrl: server.baseUrl,
    userId: user.userId,
    deviceId: user.deviceId,
    accessToken: user.accessToken,
    logger: makeLogger(user.localpart),
  });
  let stopped = false;

  const waitFor = async <T>(description: string, check: () => T | undefined | null | false, timeoutMs = DEFAULT_WAIT_MS): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      // A promise is always truthy: an async check would pass at once without waiting.
      if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
        throw new Error(`waitFor(${description}): the check must be synchronous (use waitUntil for async checks)`);
      }
      if (v) return v;
      if (Date.now() > deadline) {
        const recent = failures.length ? `\nrecent failed requests by the SDK:\n  ${failures.join('\n  ')}` : '';
        throw new Error(`${user.localpart}'s client: timed out after ${timeoutMs} ms waiting for ${description} (sync state: ${client.getSyncState()})${recent}`);
      }
      await sleep(50);
    }
  };

  const waitForPrepared = async (timeoutMs = 20_000): Promise<void> => {
    await waitFor(
      'sync state PREPARED',
      () => {
        const s = client.getSyncState();
        if (s === sdk.SyncState.Error) {
          const err = client.getSyncStateData()?.error;
          throw new Error(`${user.localpart}'s client: sync failed before PREPARED: ${err?.message ?? 'unknown error'}`);
        }
        return s === sdk.SyncState.Prepared || s === sdk.SyncState.Syncing;
      },
      timeoutMs,
    );
  };

  const tc: TestClient = {
    client,
    user,
    async start(opts = {}) {
      await client.startClient({ initialSyncLimit: opts.initialSyncLimit ?? 20 });
      await waitForPrepared(opts.timeoutMs);
    },
    waitForPrepared,
    waitFor,
    waitForRoom(roomId, description, pred, timeoutMs) {
      return waitFor(description, () => {
        const room = client.getRoom(roomId);
        if (room === null) return undefined;
        return pred === undefined || pred(room) ? room : undefined;
      }, timeoutMs);
    },
    async waitForEvent(roomId, description, pred, timeoutMs = DEFAULT_WAIT_MS) {
      try {
        return await waitFor(description, () => {
          const room = client.getRoom(roomId);
          if (room === null) return undefined;
          return allEvents(room).find((e) => e.getRoomId() === roomId && pred(e));
        }, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nlast events ${user.localpart} saw in ${roomId}:\n${summarise(client.getRoom(roomId))}`);
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      client.stopClient();
    },
  };
  return tc;
}

/** Creates, starts and awaits PREPARED; stopped by t.after. */
export async function startedClient(
  t: { after(fn: () => unknown): void },
  server: HasBaseUrl,
  user: User,
  opts: { initialSyncLimit?: number } = {},
): Promise<TestClient> {
  const tc = makeClient(server, user);
  t.after(() => tc.stop());
  await tc.start(opts);
  return tc;
}

export { sdk };
export type { MatrixClient, MatrixEvent, Room };
