// For tests: the media module behind the real HTTP stack (createApp) with a real
// database and file store in a temporary directory, and two signed-in users.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema, type MediaConfig } from '../config/config.js';
import { MediaRepo } from '../storage/mediaRepo.js';
import { serveTestApp } from '../testing/http.js';
import { openTestDatabase } from '../testing/storage.js';
import { TestUsers } from '../testing/users.js';
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
  const { dir, db, close } = await openTestDatabase({ prefix: 'parley-media-', dbSubdir: 'db' });
  const logger = pino({ level: 'silent' });
  const config = configSchema.parse({ media }).media;
  const users = new TestUsers(SERVER);
  users.add('alice', { deviceId: 'A', token: ALICE.token });
  users.add('bob', { deviceId: 'B', token: BOB.token });
  const module = await createMediaModule(db, { serverName: SERVER, dataDir: dir, media: config }, logger);
  const http = await serveTestApp(module.routes, users, { logger });
  const { base } = http;
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
    await http.close({ force: true });
    await close();
  }
}
