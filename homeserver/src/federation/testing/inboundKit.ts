// Test support for the inbound federation side: our homeserver (real LevelDB, rooms,
// sync, the federation module with real X-Matrix checks, the ingest and the serving
// routes) behind createApp on a loopback port, and a fake remote server on a
// FakeFederation network that our server's requests are routed to.
import { toWire } from '@parley/federation/core/eventRefs';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { roomVersion } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { signingKeyFromSeed, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { pino } from 'pino';
import { configSchema } from '../../config/config.js';
import { toClientEvent } from '../../events/clientEvent.js';
import { RoomOutputs } from '../../events/outputs.js';
import { createApp } from '../../http/app.js';
import type { Requester, Route } from '../../http/route.js';
import { openRooms, type Rooms, type RoomsDeps } from '../../rooms/roomsModule.js';
import { Database } from '../../storage/db.js';
import { StreamCounter } from '../../storage/streamCounter.js';
import { createSyncModule, type SyncModule } from '../../sync/syncModule.js';
import { createFederationModule, type FederationModule } from '../federationModule.js';
import { RemoteIngest } from '../ingest/remoteIngest.js';
import { FakeFederation, FakeRemoteServer, type FakeEvent } from './fakeRemote.js';

export const US = 'us.test';
export const REMOTE = 'remote.test';

export interface InboundKit {
  dir: string;
  db: Database;
  stream: StreamCounter;
  outputs: RoomOutputs;
  rooms: Rooms;
  sync: SyncModule;
  fed: FederationModule;
  ingest: RemoteIngest;
  net: FakeFederation;
  remote: FakeRemoteServer;
  ourKey: SigningKey;
  /** A local user (its token works for client routes). */
  local(localpart: string): Requester & { token: string };
  /** Create a public room on our server as `localpart`. */
  createRoom(localpart: string, version?: string): Promise<string>;
  /** Let the fake learn every event of our room, so it can build on them. */
  teachRemote(roomId: string): Promise<void>;
  /** A remote user joins our room (the fake builds the join on our latest event; ingested as a /send PDU). */
  joinRemote(roomId: string, localpart: string): Promise<FakeEvent>;
  /** A federation request signed by the fake. */
  fedCall(method: string, path: string, body?: unknown, from?: FakeRemoteServer): Promise<{ status: number; json: any }>;
  /** A client request with a local user's token. */
  clientCall(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export interface InboundKitOptions {
  /** Serving routes to mount (the inbound API modules), given the kit's parts. */
  routes?: (k: Omit<InboundKit, 'close'>) => import('@parley/federation/api/route').FederationRoute[];
  clientRoutes?: (k: Omit<InboundKit, 'close'>) => Route<unknown, unknown>[];
  /** Federation seams of the rooms service (joins, knocks, invites of rooms we are not in), e.g. a LateRoomPorts bound later. */
  remotePorts?: Pick<RoomsDeps, 'remoteJoiner' | 'remoteKnocker' | 'remoteInviter' | 'remoteLeaver'>;
  /** Database directory to use (kept on close); a fresh temporary one otherwise. */
  dir?: string;
}

export async function openInboundKit(opts: InboundKitOptions = {}): Promise<InboundKit> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'parley-fed-in-'));
  const db = await Database.open(dir);
  const stream = await StreamCounter.open(db);
  const outputs = new RoomOutputs();
  const ourKey = signingKeyFromSeed('ed25519:us', Buffer.alloc(32, 9));
  const rooms = await openRooms({ db, counter: stream, outputs, serverName: US, signingKey: ourKey, profiles: { profile: async () => ({}) }, ...opts.remotePorts });
  const sync = createSyncModule({
    db,
    stream,
    reader: rooms.reader,
    outputs,
    visible: (userId, roomId, events) => rooms.visibility.filter(userId, roomId, events),
    format: toClientEvent,
  });
  const net = new FakeFederation();
  const remote = net.add(new FakeRemoteServer(REMOTE));
  const logger = pino({ level: 'silent' });
  const fed = createFederationModule({
    db,
    identity: { serverName: US, signingKey: ourKey },
    config: configSchema.parse({ federation: { enabled: true } }).federation,
    reader: rooms.reader,
    logger,
    requester: net,
  });
  const ingest = new RemoteIngest({ serverName: US, reader: rooms.reader, writer: rooms.writer, keys: fed.keyRing, requester: net });
  const tokens = new Map<string, Requester>();

  const kit: Omit<InboundKit, 'close'> = {
    dir,
    db,
    stream,
    outputs,
    rooms,
    sync,
    fed,
    ingest,
    net,
    remote,
    ourKey,
    local(localpart) {
      const r = { userId: `@${localpart}:${US}`, deviceId: 'DEV', isAdmin: false, token: `tok-${localpart}` };
      tokens.set(r.token, r);
      return r;
    },
    async createRoom(localpart, version = '12') {
      const { room_id } = await rooms.creator.createRoom(kit.local(localpart), { preset: 'public_chat', room_version: version });
      return room_id;
    },
    async teachRemote(roomId) {
      const version = (await rooms.reader.roomVersion(roomId))!;
      const events = await rooms.reader.timeline(roomId, { dir: 'f', limit: 10_000 });
      remote.learn(version, events.map((e) => toWire(stripUnsigned(e.pdu), e.refHashes)));
    },
    async joinRemote(roomId, localpart) {
      await kit.teachRemote(roomId);
      const u = remote.user(localpart);
      const ev = remote.build(roomId, { type: 'm.room.member', sender: u, stateKey: u, content: { membership: 'join' } });
      const res = await ingest.ingestPdus(REMOTE, [ev.pdu]);
      const r = res.get(ev.eventId);
      if (!r || r.error) throw new Error(`remote join not accepted: ${r?.error ?? 'no result'}`);
      return ev;
    },
    fedCall: async () => ({ status: 0, json: undefined }),
    clientCall: async () => ({ status: 0, json: undefined }),
  };
  if (opts.routes) fed.addRoutes(opts.routes(kit));
  const app = createApp({
    routes: [...fed.routesToMount(), ...sync.routes, ...(opts.clientRoutes?.(kit) ?? [])],
    authenticator: { authenticate: async (t) => tokens.get(t) },
    serverAuthenticator: fed.serverAuthenticator,
    rateLimiter: undefined,
    logger,
    allowQueryToken: false,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, headers: Record<string, string>, body: unknown) => {
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    return { status: res.status, json: json as any };
  };
  kit.fedCall = (method, path, body, from = remote) =>
    call(method, path, { authorization: from.authorization(method, path, US, typeof body === 'string' ? undefined : body) }, body);
  kit.clientCall = (method, path, token, body) => call(method, path, { authorization: `Bearer ${token}` }, body);

  return {
    ...kit,
    async close() {
      sync.close();
      fed.stop();
      await new Promise((r) => server.close(r));
      await rooms.drain();
      await db.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Run `fn` with a fresh kit, closed afterwards. */
export async function withInboundKit(fn: (k: InboundKit) => Promise<void>, opts?: InboundKitOptions): Promise<void> {
  const k = await openInboundKit(opts);
  try {
    await fn(k);
  } finally {
    await k.close();
  }
}

/** Our stored PDU as it goes over federation. */
export function stripUnsigned(pdu: Pdu): Pdu {
  const { unsigned: _u, ...rest } = pdu;
  return rest as Pdu;
}

export const rulesOf = (v: string) => roomVersion(v)!;
