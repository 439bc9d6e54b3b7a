// A generated remote homeserver for the federation benchmarks: its own ed25519 signing
// key (federation/src/signing/ed25519Key.ts), an HTTPS listener on 127.0.0.1 with a
// throwaway CA (federation/src/transport/testCa.ts) that Parley is told to trust, the
// key endpoint, and — for rooms it is resident in — make_join, send_join (v2, with
// omit_members), state, state_ids, event, event_auth, get_missing_events and backfill,
// answered from memory. Requests it sends are signed with X-Matrix
// (federation/src/transport/xMatrix.ts). Requests it receives are not verified: it is a
// load generator, not a server under test.
// Spec: server-server-api.md "Retrieving server keys", "Joining Rooms", "Transactions",
// "Retrieving events", "Request Authentication".
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateSigningKey, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { signJson } from '@parley/federation/signing/signJson';
import { signRequest } from '@parley/federation/transport/xMatrix';
import { makeTestPki, type TestPki } from '@parley/federation/transport/testCa';
import { stateKeyOf, type JsonObject, type Pdu } from '@parley/federation/core/types';
import { eventIdOf } from '@parley/federation/core/eventId';
import { makeAgent, request, target, type HttpTarget, type Response } from '../lib/http.js';
import { onCleanup } from '../lib/cleanup.js';
import { allocPort } from '../lib/ports.js';
import { nowMs } from '../lib/stats.js';
import type { RemoteRoom } from './remoteRoom.js';

export interface RemoteStats {
  /** Requests by route name. */
  counts: Record<string, number>;
  /** nowMs() of the first and last request per route name. */
  first: Record<string, number>;
  last: Record<string, number>;
  /** PDUs returned by state/state_ids/event/event_auth/get_missing_events/backfill. */
  pdusServed: number;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class RemoteServer {
  readonly rooms = new Map<string, RemoteRoom>();
  readonly stats: RemoteStats = { counts: {}, first: {}, last: {}, pdusServed: 0 };
  /** PDUs Parley sent us in transactions. */
  readonly received: Pdu[] = [];
  /** The omit_members flag of each send_join received, in order. */
  readonly sendJoinOmit: boolean[] = [];

  private constructor(
    readonly serverName: string,
    readonly port: number,
    readonly key: SigningKey,
    readonly pki: TestPki,
    private readonly server: Server,
  ) {}

  static async start(): Promise<RemoteServer> {
    const port = await allocPort();
    const pki = makeTestPki(['IP:127.0.0.1']);
    onCleanup(() => pki.cleanup());
    const key = generateSigningKey();
    let self: RemoteServer | undefined;
    const server = createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
      self!.handle(req, res).catch((err: unknown) => json(res, 500, { errcode: 'M_UNKNOWN', error: String(err) }));
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    self = new RemoteServer(`127.0.0.1:${port}`, port, key, pki, server);
    return self;
  }

  get caFile(): string {
    return this.pki.caCertFile;
  }

  private count(name: string): void {
    this.stats.counts[name] = (this.stats.counts[name] ?? 0) + 1;
    const t = nowMs();
    this.stats.first[name] ??= t;
    this.stats.last[name] = t;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://remote');
    const p = url.pathname;
    const seg = p.split('/').map((s) => decodeURIComponent(s));
    const method = req.method ?? 'GET';
    const body = method === 'GET' ? '' : await readBody(req);

    if (p === '/_matrix/key/v2/server') {
      this.count('keys');
      return json(res, 200, signJson({
        server_name: this.serverName,
        valid_until_ts: Date.now() + 24 * 3600 * 1000,
        verify_keys: { [this.key.keyId]: { key: this.key.publicKeyBase64 } },
        old_verify_keys: {},
      }, this.serverName, this.key));
    }
    if (p === '/_matrix/federation/v1/version') return json(res, 200, { server: { name: 'parley-bench-remote', version: '0' } });
    if (p.startsWith('/_matrix/federation/v1/send/') && method === 'PUT') {
      this.count('send');
      const txn = JSON.parse(body || '{}') as { pdus?: Pdu[] };
      for (const pdu of txn.pdus ?? []) this.received.push(pdu);
      return json(res, 200, { pdus: {} });
    }
    if (p.startsWith('/_matrix/federation/v1/user/devices/')) return json(res, 200, { user_id: seg[6], stream_id: 0, devices: [] });
    if (p === '/_matrix/federation/v1/user/keys/query') return json(res, 200, { device_keys: {} });
    if (p === '/_matrix/federation/v1/query/profile') return json(res, 404, { errcode: 'M_NOT_FOUND', error: 'no profile' });

    // Room endpoints: /_matrix/federation/v{1,2}/<name>/<roomId>/...
    const name = seg[4];
    const room = seg[5] !== undefined ? this.rooms.get(seg[5]) : undefined;
    if (room === undefined) return json(res, 404, { errcode: 'M_UNRECOGNIZED', error: `not handled by the bench remote: ${method} ${p}` });
    const pduOf = (id: string) => room.events.get(id);
    const served = (pdus: unknown[]) => {
      this.stats.pdusServed += pdus.length;
      return pdus;
    };

    if (name === 'make_join' && method === 'GET') {
      this.count('make_join');
      const userId = seg[6];
      const vers = url.searchParams.getAll('ver');
      if (!vers.includes(room.rules.id)) return json(res, 400, { errcode: 'M_INCOMPATIBLE_ROOM_VERSION', error: 'unsupported', room_version: room.rules.id });
      const auth = ['m.room.power_levels', 'm.room.join_rules', ...(room.rules.createEventNotInAuthEvents ? [] : ['m.room.create'])]
        .map((t) => room.state.get(stateKeyOf(t, '')))
        .filter((x): x is string => x !== undefined);
      const prior = room.state.get(stateKeyOf('m.room.member', userId));
      if (prior) auth.push(prior);
      const event: JsonObject = {
        type: 'm.room.member',
        room_id: room.roomId,
        sender: userId,
        state_key: userId,
        content: { membership: 'join' },
        origin_server_ts: Date.now(),
        depth: room.depth + 1,
        prev_events: [...room.head],
        auth_events: auth,
      };
      return json(res, 200, { room_version: room.rules.id, event });
    }
    if (name === 'send_join' && method === 'PUT' && seg[3] === 'v2') {
      this.count('send_join');
      const join = JSON.parse(body) as Pdu;
      const id = eventIdOf(join, room.rules);
      const omit = url.searchParams.get('omit_members') === 'true';
      this.sendJoinOmit.push(omit);
      const stateIds = [...room.state.values()];
      const state = stateIds.map((i) => room.events.get(i)!).filter((e) => !(omit && e.type === 'm.room.member'));
      const stateSet = new Set(state.map((e) => eventIdOf(e, room.rules)));
      const chainIds = room.authChain([...stateSet, ...join.auth_events]);
      for (const a of join.auth_events) chainIds.add(a);
      const authChain = [...chainIds].filter((i) => !(omit && stateSet.has(i))).map((i) => room.events.get(i)!).filter(Boolean);
      room.add(id, join);
      const servers = [this.serverName];
      return json(res, 200, { origin: this.serverName, state: served(state), auth_chain: served(authChain), event: join, members_omitted: omit, ...(omit ? { servers_in_room: servers } : {}) });
    }
    if ((name === 'state' || name === 'state_ids') && method === 'GET') {
      this.count(name);
      const at = url.searchParams.get('event_id') ?? '';
      const s = room.stateBefore(at);
      if (s === undefined) return json(res, 404, { errcode: 'M_NOT_FOUND', error: `unknown event ${at}` });
      const ids = [...s.values()];
      const chain = [...room.authChain(ids)];
      if (name === 'state_ids') return json(res, 200, { pdu_ids: ids, auth_chain_ids: chain });
      return json(res, 200, { pdus: served(ids.map(pduOf)), auth_chain: served(chain.map(pduOf)) });
    }
    if (name === 'event_auth' && method === 'GET') {
      this.count('event_auth');
      const ev = pduOf(seg[6]);
      if (!ev) return json(res, 404, { errcode: 'M_NOT_FOUND', error: 'unknown event' });
      return json(res, 200, { auth_chain: served([...room.authChain([seg[6]])].map(pduOf)) });
    }
    if ((name === 'get_missing_events' && method === 'POST') || (name === 'backfill' && method === 'GET')) {
      this.count(name);
      const b = name === 'backfill' ? { latest_events: url.searchParams.getAll('v'), earliest_events: [], limit: Number(url.searchParams.get('limit') ?? 10) } : (JSON.parse(body) as { latest_events: string[]; earliest_events: string[]; limit?: number });
      const stop = new Set(b.earliest_events);
      const out: Pdu[] = [];
      const seen = new Set<string>();
      const queue = name === 'backfill' ? [...b.latest_events] : b.latest_events.flatMap((l) => pduOf(l)?.prev_events ?? []);
      while (queue.length > 0 && out.length < Math.min(b.limit ?? 10, 100)) {
        const id = queue.shift()!;
        if (seen.has(id) || stop.has(id)) continue;
        seen.add(id);
        const ev = pduOf(id);
        if (!ev) continue;
        out.push(ev);
        queue.push(...ev.prev_events);
      }
      const pdus = served(name === 'get_missing_events' ? out.reverse() : out);
      return json(res, 200, name === 'backfill' ? { origin: this.serverName, origin_server_ts: Date.now(), pdus } : { events: pdus });
    }
    if (name === 'event' && method === 'GET') {
      this.count('event');
      const ev = pduOf(seg[5]);
      if (!ev) return json(res, 404, { errcode: 'M_NOT_FOUND', error: 'unknown event' });
      return json(res, 200, { origin: this.serverName, origin_server_ts: Date.now(), pdus: served([ev]) });
    }
    return json(res, 404, { errcode: 'M_UNRECOGNIZED', error: `not handled by the bench remote: ${method} ${p}` });
  }

  /** Sends an X-Matrix-signed request to `dest` (Parley), over plain HTTP on loopback. */
  async signedRequest(dest: { baseUrl: string; serverName: string }, method: string, path: string, content?: unknown, t?: HttpTarget): Promise<Response> {
    const authorization = signRequest({ method, uri: path, origin: this.serverName, destination: dest.serverName, ...(content !== undefined ? { content: content as JsonObject } : {}) }, this.key);
    return request(t ?? target(dest.baseUrl, makeAgent(16)), method, path, { body: content, headers: { authorization }, timeoutMs: 120_000 });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.pki.cleanup();
  }
}
