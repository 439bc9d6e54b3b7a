// A scripted remote homeserver for black-box federation tests: it publishes its signing key
// over HTTPS (certificate from the test CA, so Parley verifies it), joins users to rooms on
// a real Parley through make_join/send_join, builds and signs events (or forgeries of them),
// sends transactions, and answers what Parley asks back (/event, /get_missing_events,
// /state_ids, /event_auth, /send) from the event graph it holds. Every request Parley makes
// to it is recorded in `calls`. The out-of-process counterpart of homeserver's
// federation/testing/fakeRemote.ts.
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import { authEventTypesFor } from '@parley/federation/core/auth/index';
import { eventIdOf } from '@parley/federation/core/eventId';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type JsonObject, type Pdu, type StateKey } from '@parley/federation/core/types';
import { ownKeyDocument } from '@parley/federation/api/keys';
import { generateSigningKey, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent } from '@parley/federation/signing/signEvent';
import { signRequest } from '@parley/federation/transport/xMatrix';
import type { FederatedServer, FederationPki } from './federation.js';
import { rawRequest, type RawResponse } from './http.js';
import { freePort } from './server.js';

export interface FakeEvent {
  eventId: string;
  pdu: Pdu;
}

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
}

export interface BuildOptions {
  type: string;
  sender: string;
  content: JsonObject;
  stateKey?: string;
  /** Default: the room's latest accepted event. */
  prevEvents?: string[];
  /** Default: selected from the fake's current state of the room, as the spec says. */
  authEvents?: string[];
  /** Default true: the event becomes the room's latest (what later events build on) and, if state, part of its state. */
  advance?: boolean;
  /** Sign with this key but present the signature under the fake's real key ID (a forgery). */
  signWith?: SigningKey;
  /** Change the content after hashing and signing (the content hash then no longer matches). */
  corruptContentAfterSigning?: JsonObject;
}

interface RoomView {
  rules: RoomVersionRules;
  state: Map<StateKey, string>;
  latest: string;
  depth: number;
}

export class FakeHomeserver {
  readonly key: SigningKey = generateSigningKey();
  readonly calls: RecordedCall[] = [];
  readonly events = new Map<string, FakeEvent>();
  private readonly rooms = new Map<string, RoomView>();
  private txnCounter = 0;

  private constructor(
    readonly serverName: string,
    private readonly close_: () => Promise<void>,
  ) {}

  static async start(tls: FederationPki): Promise<FakeHomeserver> {
    const port = await freePort();
    let fake: FakeHomeserver | undefined;
    const server = createServer({ cert: tls.pki.serverCert, key: tls.pki.serverKey }, (req, res) => {
      void readBody(req).then((text) => {
        let body: unknown;
        try {
          body = text.length > 0 ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        const { status, json } = fake!.answer(req.method ?? 'GET', req.url ?? '/', body);
        res.statusCode = status;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    fake = new FakeHomeserver(`127.0.0.1:${port}`, () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    });
    return fake;
  }

  close(): Promise<void> {
    return this.close_();
  }

  user(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  /** A federation request to `target`, signed with X-Matrix (sent to its client listener, which serves federation too). */
  request(target: FederatedServer, method: string, uri: string, body?: unknown): Promise<RawResponse> {
    const authorization = signRequest({ method, uri, origin: this.serverName, destination: target.serverName, content: body as never }, this.key);
    return rawRequest(target, method, uri, { body, headers: { Authorization: authorization } });
  }

  /** Join `userId` (of this fake) to a room on `target` through make_join and send_join v2, and learn the room's state. */
  async join(target: FederatedServer, roomId: string, localpart: string): Promise<FakeEvent> {
    const userId = this.user(localpart);
    const ver = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'].map((v) => `ver=${v}`).join('&');
    const make = await this.request(target, 'GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}?${ver}`);
    if (make.status !== 200) throw new Error(`make_join: ${make.status} ${make.text}`);
    const rules = roomVersion(make.json.room_version as string);
    if (!rules) throw new Error(`unknown room version ${make.json.room_version}`);
    const template = make.json.event as Record<string, unknown>;
    delete template.origin;
    const joinPdu = hashAndSignEvent({ ...(template as unknown as Pdu), hashes: { sha256: '' }, signatures: {} }, rules, this.serverName, this.key);
    const joinId = eventIdOf(joinPdu, rules);
    const sent = await this.request(target, 'PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(joinId)}`, joinPdu);
    if (sent.status !== 200) throw new Error(`send_join: ${sent.status} ${sent.text}`);
    const stateEvents = sent.json.state as Pdu[];
    for (const pdu of [...(sent.json.auth_chain as Pdu[]), ...stateEvents]) this.events.set(eventIdOf(pdu, rules), { eventId: eventIdOf(pdu, rules), pdu });
    const state = new Map<StateKey, string>();
    for (const pdu of stateEvents) state.set(stateKeyOf(pdu.type, pdu.state_key ?? ''), eventIdOf(pdu, rules));
    const joined: Pdu = (sent.json.event as Pdu | undefined) ?? joinPdu;
    const ev = { eventId: joinId, pdu: joined };
    this.events.set(joinId, ev);
    state.set(stateKeyOf('m.room.member', userId), joinId);
    this.rooms.set(roomId, { rules, state, latest: joinId, depth: joined.depth });
    return ev;
  }

  /** Build, hash and sign an event; the fake remembers it (so it can serve it back). */
  build(roomId: string, o: BuildOptions): FakeEvent {
    const room = this.rooms.get(roomId);
    if (!room) throw new Error(`fake ${this.serverName} is not in ${roomId}`);
    const prev = o.prevEvents ?? [room.latest];
    const depth = Math.max(0, ...prev.map((id) => this.events.get(id)?.pdu.depth ?? room.depth)) + 1;
    let pdu: Pdu = {
      room_id: roomId,
      type: o.type,
      sender: o.sender,
      content: o.content,
      origin_server_ts: Date.now(),
      depth,
      prev_events: prev,
      auth_events: [],
      hashes: { sha256: '' },
      signatures: {},
    };
    if (o.stateKey !== undefined) pdu.state_key = o.stateKey;
    pdu.auth_events = o.authEvents ?? authEventTypesFor(pdu, room.rules).flatMap(([t, k]) => room.state.get(stateKeyOf(t, k)) ?? []);
    pdu = hashAndSignEvent(pdu, room.rules, this.serverName, o.signWith ?? this.key);
    if (o.signWith) {
      const sig = pdu.signatures[this.serverName][o.signWith.keyId];
      pdu = { ...pdu, signatures: { [this.serverName]: { [this.key.keyId]: sig } } };
    }
    if (o.corruptContentAfterSigning) pdu = { ...pdu, content: { ...pdu.content, ...o.corruptContentAfterSigning } };
    const ev = { eventId: eventIdOf(pdu, room.rules), pdu };
    this.events.set(ev.eventId, ev);
    if (o.advance ?? true) {
      room.latest = ev.eventId;
      room.depth = Math.max(room.depth, depth);
      if (o.stateKey !== undefined) room.state.set(stateKeyOf(o.type, o.stateKey), ev.eventId);
    }
    return ev;
  }

  /** PUT /send/{txnId} to `target` with these PDUs (and EDUs); answers the response. */
  sendTransaction(target: FederatedServer, pdus: unknown[], edus: unknown[] = []): Promise<RawResponse> {
    const txnId = `fake-${Date.now()}-${this.txnCounter++}`;
    const body: Record<string, unknown> = { origin: this.serverName, origin_server_ts: Date.now(), pdus };
    if (edus.length > 0) body.edus = edus;
    return this.request(target, 'PUT', `/_matrix/federation/v1/send/${txnId}`, body);
  }

  /** How Parley's requests are answered. */
  private answer(method: string, rawPath: string, body: unknown): { status: number; json: unknown } {
    this.calls.push({ method, path: rawPath, body });
    const url = new URL(rawPath, 'https://fake.invalid');
    const path = decodeURIComponent(url.pathname);
    const ok = (json: unknown) => ({ status: 200, json });
    const notFound = { status: 404, json: { errcode: 'M_NOT_FOUND', error: 'not found' } };
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/_matrix/key/v2/server') return ok(ownKeyDocument({ serverName: this.serverName, signingKey: this.key }, Date.now()));
    if (method === 'GET' && path === '/_matrix/federation/v1/version') return ok({ server: { name: 'fake', version: '0' } });
    if (method === 'PUT' && path.startsWith('/_matrix/federation/v1/send/')) return ok({ pdus: {} });
    if (method === 'GET' && (m = /^\/_matrix\/federation\/v1\/event\/(.+)$/.exec(path))) {
      const ev = this.events.get(m[1]);
      return ev ? ok({ origin: this.serverName, origin_server_ts: Date.now(), pdus: [ev.pdu] }) : notFound;
    }
    if (method === 'POST' && /^\/_matrix\/federation\/v1\/get_missing_events\//.test(path)) {
      return ok({ events: this.missingEvents((body ?? {}) as Record<string, unknown>) });
    }
    if (method === 'GET' && (m = /^\/_matrix\/federation\/v1\/event_auth\/([^/]+)\/(.+)$/.exec(path))) {
      const ev = this.events.get(m[2]);
      return ev ? ok({ auth_chain: this.authChain(ev.pdu.auth_events).map((id) => this.events.get(id)!.pdu) }) : notFound;
    }
    if (method === 'GET' && /^\/_matrix\/federation\/v1\/state_ids\//.test(path)) {
      // Only linear histories are built here: the fake's current state stands for the state at any of its events.
      const roomId = /^\/_matrix\/federation\/v1\/state_ids\/(.+)$/.exec(path)![1];
      const room = this.rooms.get(roomId);
      if (!room) return notFound;
      const ids = [...room.state.values()];
      return ok({ pdu_ids: ids, auth_chain_ids: this.authChain(ids) });
    }
    return { status: 404, json: { errcode: 'M_UNRECOGNIZED', error: `fake has no ${method} ${path}` } };
  }

  private authChain(ids: string[]): string[] {
    const seen = new Set<string>();
    const todo = [...ids];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      const ev = this.events.get(id);
      if (!ev) continue;
      seen.add(id);
      todo.push(...ev.pdu.auth_events);
    }
    return [...seen];
  }

  private missingEvents(body: Record<string, unknown>): Pdu[] {
    const earliest = new Set((body.earliest_events as string[]) ?? []);
    const limit = typeof body.limit === 'number' ? body.limit : 10;
    const out: FakeEvent[] = [];
    const seen = new Set<string>();
    let frontier = ((body.latest_events as string[]) ?? []).flatMap((id) => this.events.get(id)?.pdu.prev_events ?? []);
    while (frontier.length > 0 && out.length < limit) {
      const next: string[] = [];
      for (const id of frontier) {
        if (seen.has(id) || earliest.has(id)) continue;
        seen.add(id);
        const ev = this.events.get(id);
        if (!ev) continue;
        out.push(ev);
        next.push(...ev.pdu.prev_events);
      }
      frontier = next;
    }
    return out
      .slice(0, limit)
      .sort((a, b) => a.pdu.depth - b.pdu.depth)
      .map((e) => e.pdu);
  }
}

const enc = encodeURIComponent;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
