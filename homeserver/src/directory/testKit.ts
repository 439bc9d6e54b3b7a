// Test support (imported by *.test.ts only) for presence, directories, search, 3PIDs and
// r0 aliases: the real room, sync, presence, directory and search modules on a temp
// database, served through createApp (with r0 aliases as main.ts mounts them), and a
// token → user map standing in for the accounts service.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { pino } from 'pino';
import { threepidRoutes } from '../api/client/threepid.js';
import { toClientEvent } from '../events/clientEvent.js';
import { RoomOutputs } from '../events/outputs.js';
import { createApp } from '../http/app.js';
import { withR0Aliases } from '../http/r0Aliases.js';
import type { Requester } from '../http/route.js';
import { createPresenceModule, type PresenceModule } from '../presence/presenceModule.js';
import type { CreateRoomRequest } from '../rooms/createRoom.js';
import { openRooms, type Rooms } from '../rooms/roomsModule.js';
import { createSearchModule, type SearchModule } from '../search/searchModule.js';
import { Database } from '../storage/db.js';
import { StreamCounter } from '../storage/streamCounter.js';
import { createSyncModule, type SyncModule } from '../sync/syncModule.js';
import { createDirectoryModule, type DirectoryModule } from './directoryModule.js';

export const SERVER = 'example.test';
export const C = '/_matrix/client/v3';

export interface KitUser extends Requester {
  token: string;
}

export interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface Kit {
  dir: string;
  rooms: Rooms;
  sync: SyncModule;
  presence: PresenceModule;
  directory: DirectoryModule;
  search: SearchModule;
  /** Every profile the kit's profile lookup answers from (set before the user joins rooms). */
  profiles: Map<string, { displayname?: string; avatar_url?: string }>;
  user(localpart: string, opts?: { admin?: boolean }): KitUser;
  call(method: string, path: string, opts?: { token?: string; body?: unknown; tokenInQuery?: boolean }): Promise<Res>;
  createRoom(u: KitUser, req?: CreateRoomRequest): Promise<string>;
  send(u: KitUser, roomId: string, body: string): Promise<string>;
  /** Wait until the search index and the user directory have caught up. */
  settle(): Promise<void>;
}

export interface KitOptions {
  presenceEnabled?: boolean;
  /** The presence module's clock. */
  now?: () => number;
  allowQueryToken?: boolean;
  /** Reuse a data directory (restart tests); it is then not deleted. */
  dir?: string;
  signingKey?: SigningKey;
}

let txn = 0;

export async function withKit(fn: (k: Kit) => Promise<void>, opts: KitOptions = {}): Promise<void> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'parley-5b-'));
  const db = await Database.open(dir);
  const stream = await StreamCounter.open(db);
  const outputs = new RoomOutputs();
  const profiles = new Map<string, { displayname?: string; avatar_url?: string }>();
  const profile = async (userId: string) => profiles.get(userId) ?? {};
  const rooms = await openRooms({ db, counter: stream, outputs, serverName: SERVER, signingKey: opts.signingKey ?? generateSigningKey(), profiles: { profile } });
  const visible = (userId: string, roomId: string, events: Parameters<Rooms['visibility']['filter']>[2]) => rooms.visibility.filter(userId, roomId, events);
  const sync = createSyncModule({ db, stream, reader: rooms.reader, outputs, visible, format: toClientEvent });
  const presence = createPresenceModule({
    db,
    enabled: opts.presenceEnabled ?? true,
    serverName: SERVER,
    reader: rooms.reader,
    outputs,
    stream,
    notifier: sync.notifier,
    sync: sync.sync,
    ...(opts.now ? { now: opts.now } : {}),
  });
  await presence.start();
  const directory = createDirectoryModule({ db, reader: rooms.reader, outputs, serverName: SERVER, published: rooms.storage.published, profile });
  await directory.start();
  const search = createSearchModule({
    db,
    reader: rooms.reader,
    outputs,
    stream,
    roomShort: (roomId) => rooms.storage.ids.room(roomId),
    visible,
    format: toClientEvent,
  });
  await search.start();

  const users = new Map<string, KitUser>();
  const app = createApp({
    routes: withR0Aliases([...sync.routes, ...presence.routes, ...directory.routes, ...search.routes, ...threepidRoutes()]),
    authenticator: { authenticate: async (token) => users.get(token) },
    rateLimiter: undefined,
    logger: pino({ level: 'silent' }),
    allowQueryToken: opts.allowQueryToken ?? false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const kit: Kit = {
    dir,
    rooms,
    sync,
    presence,
    directory,
    search,
    profiles,
    user(localpart, o = {}) {
      const u: KitUser = { userId: `@${localpart}:${SERVER}`, deviceId: 'DEV', isAdmin: o.admin ?? false, token: `tok-${localpart}` };
      users.set(u.token, u);
      return u;
    },
    async call(method, path, o = {}) {
      const headers: Record<string, string> = {};
      let url = base + path;
      if (o.token && o.tokenInQuery) url += `${path.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(o.token)}`;
      else if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(url, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async createRoom(u, req = {}) {
      return (await rooms.creator.createRoom(u, req)).room_id;
    },
    send(u, roomId, body) {
      return rooms.events.send(u, roomId, 'm.room.message', `t${txn++}`, { msgtype: 'm.text', body });
    },
    async settle() {
      // Outputs fire after durability; let the stream advance and the queues drain.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setImmediate(r));
        search.indexer.kick();
        await search.indexer.idle();
        await directory.users.idle();
      }
    },
  };
  try {
    await fn(kit);
  } finally {
    presence.close();
    sync.close();
    await new Promise((r) => server.close(r));
    await rooms.drain();
    await search.indexer.idle();
    await db.close();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}
