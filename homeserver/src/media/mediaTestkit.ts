// For tests: the media module behind the real HTTP stack (createApp) with a real
// database and file store in a temporary directory, and two signed-in users.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema, type MediaConfig } from '../config/config.js';
import { createApp } from '../http/app.js';
import type { Requester } from '../http/route.js';
import { Database } from '../storage/db.js';
import { MediaRepo } from '../storage/mediaRepo.js';
import { createMediaModule, type MediaModule } from './mediaModule.js';

export const SERVER = 'media.test';
export const ALICE = { userId: '@alice:media.test', token: 'tok-alice' };
export const BOB = { userId: '@bob:media.test', token: 'tok-bob' };

export interface MediaTestServer {
  base: string;
  dir: string;
  module: MediaModule;
  /** The media metadata, to check what was (not) recorded. */
  repo: MediaRepo;
  /** Every content file in the media store (temporary files excluded). */
  contentFiles(): string[];
  /** Every temporary file in the media store. */
  tempFiles(): string[];
  request(method: string, path: string, opts?: { token?: string; body?: string | Uint8Array; headers?: Record<string, string> }): Promise<Response>;
}

export async function withMediaServer(media: Partial<MediaConfig>, fn: (s: MediaTestServer) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-media-'));
  const db = await Database.open(join(dir, 'db'));
  const logger = pino({ level: 'silent' });
  const config = configSchema.parse({ media }).media;
  const users: Record<string, Requester> = {
    [ALICE.token]: { userId: ALICE.userId, deviceId: 'A', isAdmin: false },
    [BOB.token]: { userId: BOB.userId, deviceId: 'B', isAdmin: false },
  };
  const module = await createMediaModule(db, { serverName: SERVER, dataDir: dir, media: config }, logger);
  const app = createApp({
    routes: module.routes,
    authenticator: { authenticate: async (t) => users[t] },
    rateLimiter: undefined,
    logger,
    allowQueryToken: false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const storeRoot = join(dir, 'media');
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
  try {
    await fn({
      base,
      dir,
      module,
      repo: new MediaRepo(db),
      contentFiles: () => walk(storeRoot).filter((p) => !p.startsWith(join(storeRoot, 'tmp'))),
      tempFiles: () => walk(join(storeRoot, 'tmp')),
      request: (method, path, opts = {}) =>
        fetch(base + path, {
          method,
          headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
          body: opts.body,
        }),
    });
  } finally {
    module.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
