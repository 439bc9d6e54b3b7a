// Test support: a "remote homeserver" that signs real events and requests with its own
// ed25519 key and answers the federation requests our server makes to it (keys, /event,
// /get_missing_events, /state_ids, /state, /event_auth, /backfill) from the event graph it holds. Several
// fakes share one FakeFederation, which is what our server gets as its FederationRequester.
// Events are held in their wire form: in room versions 1 and 2 that is with `event_id` and
// `[id, {sha256}]` pairs in prev_events/auth_events (refIds reads the IDs of either form).
// Shared by the inbound and outbound federation tests; extend additively.
import { authEventTypesFor } from '@parley/federation/core/auth/index';
import { eventIdOf, roomIdOf } from '@parley/federation/core/eventId';
import { newV1EventId, referenceHashObject, toWire, usesRefPairs } from '@parley/federation/core/eventRefs';
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type JsonObject, type JsonValue, type Pdu, type StateKey } from '@parley/federation/core/types';
import { ownKeyDocument } from '@parley/federation/api/keys';
import { signingKeyFromSeed, type SigningKey } from '@parley/federation/signing/ed25519Key';
import { hashAndSignEvent, signEvent } from '@parley/federation/signing/signEvent';
import { signRequest } from '@parley/federation/transport/xMatrix';
import type {
  FederationRequest,
  FederationRequester,
  FederationResult,
} from '@parley/federation/transport/federationClient';
import { createHash } from 'node:crypto';

export interface FakeEvent {
  eventId: string;
  /** As on the wire (v1/v2: with event_id and reference pairs). */
  pdu: Pdu;
}

/** The event IDs of prev_events/auth_events in either form (v1/v2 pairs or bare IDs). */
export function refIds(refs: readonly unknown[]): string[] {
  return refs.map((r) => (Array.isArray(r) ? (r[0] as string) : (r as string)));
}

export interface BuildOptions {
  type: string;
  sender: string;
  content: JsonObject;
  stateKey?: string;
  /** Default: the fake's latest event in the room. */
  prevEvents?: string[];
  /** Default: chosen from the state after prevEvents[0], as the spec's selection says. */
  authEvents?: string[];
  ts?: number;
  depth?: number;
  /** Extra servers signing the event (e.g. ours, for a join the test makes on our behalf). */
  alsoSignedBy?: Array<{ serverName: string; key: SigningKey }>;
  /** Break the content hash after signing (the event then looks redacted in transit). */
  corruptContentAfterSigning?: JsonObject;
  /** Replace the remote's signature by one of another key (a forgery). */
  signWith?: SigningKey;
}

type Handler = (req: FederationRequest, url: URL) => FederationResult | undefined;

export class FakeRemoteServer {
  readonly key: SigningKey;
  /** Every request our server sent here, in order. */
  readonly calls: FederationRequest[] = [];
  readonly events = new Map<string, FakeEvent>();
  /** The fake's idea of the state after each event (linear: prev_events[0] plus the event). */
  private readonly stateAfter = new Map<string, Map<StateKey, string>>();
  private readonly latest = new Map<string, string>();
  private readonly versions = new Map<string, RoomVersionRules>();
  private readonly overrides: Handler[] = [];
  private clock = 1_700_000_000_000;

  constructor(
    readonly serverName: string,
    seed = createHash('sha256').update(serverName).digest(),
  ) {
    this.key = signingKeyFromSeed('ed25519:fake', seed);
  }

  user(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  rules(roomId: string): RoomVersionRules {
    const r = this.versions.get(roomId);
    if (!r) throw new Error(`fake ${this.serverName} does not know room ${roomId}`);
    return r;
  }

  /** Take in events of a room (e.g. read from our server), so the fake can build on them. */
  learn(roomVersionId: string, pdus: Pdu[]): void {
    const rules = roomVersion(roomVersionId);
    if (!rules) throw new Error(`unknown room version ${roomVersionId}`);
    for (const pdu of [...pdus].sort((a, b) => a.depth - b.depth)) {
      const roomId = roomIdOf(pdu, rules)!;
      this.versions.set(roomId, rules);
      this.remember(roomId, { eventId: eventIdOf(pdu, rules), pdu });
    }
  }

  /** Create a room on the fake: create, creator's join, power levels, join rules (public), history visibility. */
  createRoom(roomVersionId: string, creatorLocalpart: string, opts: { powerUsers?: Record<string, number> } = {}): { roomId: string; events: FakeEvent[] } {
    const rules = roomVersion(roomVersionId)!;
    const creator = this.user(creatorLocalpart);
    const createContent: JsonObject = { room_version: roomVersionId };
    if (!rules.creatorIsSender) createContent.creator = creator;
    const base: Pdu = { type: 'm.room.create', sender: creator, content: createContent, state_key: '', origin_server_ts: this.tick(), depth: 1, prev_events: [], auth_events: [], hashes: { sha256: '' }, signatures: {} };
    if (usesRefPairs(rules)) base.event_id = newV1EventId(this.serverName);
    const pdu: Pdu = rules.roomIdIsCreateEventHash ? base : { ...base, room_id: `!${this.serverName.replace(/[^a-z0-9]/gi, '')}${this.clock}:${this.serverName}` };
    const signed = hashAndSignEvent(pdu, rules, this.serverName, this.key);
    const create = { eventId: eventIdOf(signed, rules), pdu: signed };
    const roomId = roomIdOf(signed, rules)!;
    this.versions.set(roomId, rules);
    this.remember(roomId, create);
    const users: JsonObject = { ...(opts.powerUsers ?? {}) };
    if (!rules.privilegedCreators) users[creator] = 100;
    const events = [
      create,
      this.build(roomId, { type: 'm.room.member', sender: creator, stateKey: creator, content: { membership: 'join' } }),
      this.build(roomId, { type: 'm.room.power_levels', sender: creator, stateKey: '', content: { users, users_default: 0 } }),
      this.build(roomId, { type: 'm.room.join_rules', sender: creator, stateKey: '', content: { join_rule: 'public' } }),
      this.build(roomId, { type: 'm.room.history_visibility', sender: creator, stateKey: '', content: { history_visibility: 'shared' } }),
    ];
    return { roomId, events };
  }

  /** Build, hash and sign an event in `roomId`; the fake remembers it (and it becomes the room's latest). */
  build(roomId: string, o: BuildOptions): FakeEvent {
    const rules = this.rules(roomId);
    const prev = o.prevEvents ?? [this.latest.get(roomId)!];
    const prevEvents = prev.map((id) => this.events.get(id)).filter((e): e is FakeEvent => e !== undefined);
    const depth = o.depth ?? Math.max(0, ...prevEvents.map((e) => e.pdu.depth)) + 1;
    let pdu: Pdu = {
      room_id: roomId,
      type: o.type,
      sender: o.sender,
      content: o.content,
      origin_server_ts: o.ts ?? this.tick(),
      depth,
      prev_events: prev,
      auth_events: [],
      hashes: { sha256: '' },
      signatures: {},
    };
    if (o.stateKey !== undefined) pdu.state_key = o.stateKey;
    if (o.type === 'm.room.redaction' && !rules.redactsInContent && typeof o.content.redacts === 'string') pdu.redacts = o.content.redacts;
    const state = this.stateAfter.get(prev[0]) ?? new Map<StateKey, string>();
    pdu.auth_events = o.authEvents ?? authEventTypesFor(pdu, rules).flatMap(([t, k]) => state.get(stateKeyOf(t, k)) ?? []);
    if (usesRefPairs(rules)) pdu = this.withRefPairs({ ...pdu, event_id: newV1EventId(this.serverName) }, rules);
    pdu = hashAndSignEvent(pdu, rules, this.serverName, o.signWith ?? this.key);
    if (o.signWith) {
      // Keep the forged signature but present it under the fake's real key ID.
      const sig = pdu.signatures[this.serverName][o.signWith.keyId];
      pdu = { ...pdu, signatures: { [this.serverName]: { [this.key.keyId]: sig } } };
    }
    for (const s of o.alsoSignedBy ?? []) pdu = signEvent(pdu, rules, s.serverName, s.key);
    if (o.corruptContentAfterSigning) pdu = { ...pdu, content: { ...pdu.content, ...o.corruptContentAfterSigning } };
    const ev = { eventId: eventIdOf(pdu, rules), pdu };
    this.remember(roomId, ev);
    return ev;
  }

  /** v1/v2: the references of a PDU with bare IDs as `[id, {sha256}]` pairs of the events the fake holds. */
  private withRefPairs(pdu: Pdu, rules: RoomVersionRules): Pdu {
    const hashes = (ids: string[]) => ids.map((id) => referenceHashObject({ pdu: this.events.get(id)!.pdu }, rules));
    return toWire(pdu, { prev: hashes(pdu.prev_events), auth: hashes(pdu.auth_events) });
  }

  /** Hash and sign a template another server gave us (make_join/make_leave/make_knock), and remember it. */
  signTemplate(roomVersionId: string, template: Record<string, unknown>): FakeEvent {
    const rules = roomVersion(roomVersionId)!;
    const pdu = hashAndSignEvent({ ...(template as unknown as Pdu), hashes: { sha256: '' }, signatures: {} }, rules, this.serverName, this.key);
    const roomId = roomIdOf(pdu, rules)!;
    this.versions.set(roomId, rules);
    const ev = { eventId: eventIdOf(pdu, rules), pdu };
    this.remember(roomId, ev);
    return ev;
  }

  /** The fake's latest event in a room (what its templates build on). */
  latestEvent(roomId: string): FakeEvent {
    const id = this.latest.get(roomId);
    if (id === undefined) throw new Error(`fake ${this.serverName} has no events in ${roomId}`);
    return this.events.get(id)!;
  }

  /** A make_join/make_knock/make_leave template for `userId` on the fake's latest event (auth events per the spec's selection). */
  template(roomId: string, userId: string, membership: string): JsonObject {
    const rules = this.rules(roomId);
    const latest = this.latestEvent(roomId);
    const state = this.stateAt(latest.eventId);
    const tpl: Pdu = {
      room_id: roomId,
      type: 'm.room.member',
      sender: userId,
      state_key: userId,
      content: { membership },
      origin_server_ts: this.tick(),
      depth: latest.pdu.depth + 1,
      prev_events: [latest.eventId],
      auth_events: [],
      hashes: { sha256: '' },
      signatures: {},
    };
    tpl.auth_events = authEventTypesFor(tpl, rules).flatMap(([t, k]) => state.get(stateKeyOf(t, k)) ?? []);
    const { hashes: _h, signatures: _s, ...rest } = usesRefPairs(rules) ? this.withRefPairs(tpl, rules) : tpl;
    return { ...rest, origin: this.serverName } as unknown as JsonObject;
  }

  /**
   * Act as a resident of `roomId` for joining, knocking and leaving servers: make_join, send_join (v2),
   * make_knock, send_knock, make_leave and send_leave (v2), answered from the fake's graph; sent
   * events become part of it.
   */
  serveHandshakes(roomId: string, opts: { honourOmitMembers?: boolean; serversInRoom?: string[] } = {}): void {
    const rules = this.rules(roomId);
    this.override((req, url) => {
      const path = decodeURIComponent(url.pathname);
      const make = /^\/_matrix\/federation\/v1\/make_(join|knock|leave)\/([^/]+)\/(.+)$/.exec(path);
      if (req.method === 'GET' && make && make[2] === roomId) {
        return ok({ room_version: rules.id, event: this.template(roomId, make[3], make[1]) });
      }
      const send = /^\/_matrix\/federation\/v[12]\/send_(join|knock|leave)\/([^/]+)\/(.+)$/.exec(path);
      if (req.method === 'PUT' && send && send[2] === roomId) {
        const before = [...this.stateAt(this.latestEvent(roomId).eventId).values()];
        this.learn(rules.id, [req.body as Pdu]);
        if (send[1] === 'leave') return ok({});
        if (send[1] === 'knock') {
          const shown = ['m.room.create', 'm.room.join_rules', 'm.room.name'].flatMap((t) => this.stateAt(this.latestEvent(roomId).eventId).get(stateKeyOf(t, '')) ?? []);
          return ok({ knock_room_state: shown.map((id) => this.events.get(id)!.pdu) });
        }
        if (opts.honourOmitMembers && url.searchParams.get('omit_members') === 'true') {
          // Partial state (MSC3706): member events left out, except those the join's auth needs;
          // auth_chain without what `state` already holds.
          const joinAuth = new Set(this.authChain(refIds((req.body as Pdu).auth_events)));
          const kept = before.filter((id) => this.events.get(id)!.pdu.type !== 'm.room.member' || joinAuth.has(id));
          const keptSet = new Set(kept);
          return ok({
            origin: this.serverName,
            members_omitted: true,
            servers_in_room: opts.serversInRoom ?? [this.serverName],
            state: kept.map((id) => this.events.get(id)!.pdu),
            auth_chain: this.authChain([...kept, ...refIds((req.body as Pdu).auth_events)]).filter((id) => !keptSet.has(id)).map((id) => this.events.get(id)!.pdu),
          });
        }
        return ok({
          origin: this.serverName,
          members_omitted: false,
          state: before.map((id) => this.events.get(id)!.pdu),
          auth_chain: this.authChain(before).map((id) => this.events.get(id)!.pdu),
        });
      }
      return undefined;
    });
  }

  /** The fake's state after an event (state key → event ID). */
  stateAt(eventId: string): Map<StateKey, string> {
    return new Map(this.stateAfter.get(eventId) ?? []);
  }

  /** Answer a request with `handler` before the built-in answers (return undefined to fall through). */
  override(handler: Handler): void {
    this.overrides.unshift(handler);
  }

  /** X-Matrix Authorization header for a request from this fake to `destination`. */
  authorization(method: string, uri: string, destination: string, body?: unknown): string {
    return signRequest({ method, uri, origin: this.serverName, destination, content: body as JsonValue | undefined }, this.key);
  }

  /** Our server calls the fake. */
  answer(req: FederationRequest): FederationResult {
    this.calls.push(req);
    const url = new URL(req.path, 'https://fake.invalid');
    for (const h of this.overrides) {
      const r = h(req, url);
      if (r) return r;
    }
    const path = decodeURIComponent(url.pathname);
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/_matrix/key/v2/server') return ok(ownKeyDocument({ serverName: this.serverName, signingKey: this.key }, Date.now()));
    if (req.method === 'GET' && (m = /^\/_matrix\/federation\/v1\/event\/(.+)$/.exec(path))) {
      const ev = this.events.get(m[1]);
      return ev ? ok({ origin: this.serverName, origin_server_ts: Date.now(), pdus: [ev.pdu] }) : notFound();
    }
    if (req.method === 'POST' && (m = /^\/_matrix\/federation\/v1\/get_missing_events\/(.+)$/.exec(path))) {
      return ok({ events: this.missingEvents(req.body as Record<string, unknown>) });
    }
    if (req.method === 'GET' && (m = /^\/_matrix\/federation\/v1\/state_ids\/(.+)$/.exec(path))) {
      const at = url.searchParams.get('event_id') ?? '';
      const ev = this.events.get(at);
      if (!ev) return notFound();
      const before = this.stateAfter.get(refIds(ev.pdu.prev_events)[0]) ?? new Map();
      const pduIds = [...before.values()];
      return ok({ pdu_ids: pduIds, auth_chain_ids: this.authChain([...pduIds, ...refIds(ev.pdu.auth_events)]) });
    }
    if (req.method === 'GET' && (m = /^\/_matrix\/federation\/v1\/state\/(.+)$/.exec(path))) {
      const ev = this.events.get(url.searchParams.get('event_id') ?? '');
      if (!ev) return notFound();
      const pduIds = [...(this.stateAfter.get(refIds(ev.pdu.prev_events)[0]) ?? new Map<StateKey, string>()).values()];
      return ok({ pdus: pduIds.map((id) => this.events.get(id)!.pdu), auth_chain: this.authChain([...pduIds, ...refIds(ev.pdu.auth_events)]).map((id) => this.events.get(id)!.pdu) });
    }
    if (req.method === 'GET' && (m = /^\/_matrix\/federation\/v1\/backfill\/(.+)$/.exec(path))) {
      return ok({ origin: this.serverName, origin_server_ts: Date.now(), pdus: this.backfill(url.searchParams.getAll('v'), Number(url.searchParams.get('limit') ?? 10)) });
    }
    if (req.method === 'GET' && (m = /^\/_matrix\/federation\/v1\/event_auth\/([^/]+)\/(.+)$/.exec(path))) {
      const ev = this.events.get(m[2]);
      if (!ev) return notFound();
      return ok({ auth_chain: this.authChain(refIds(ev.pdu.auth_events)).map((id) => this.events.get(id)!.pdu) });
    }
    return { ok: false, kind: 'http', status: 404, errcode: 'M_UNRECOGNIZED', error: `fake has no ${req.method} ${path}` };
  }

  /** Auth chain of the given events (themselves included), as IDs the fake holds. */
  authChain(ids: string[]): string[] {
    const seen = new Set<string>();
    const todo = [...ids];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (seen.has(id)) continue;
      const ev = this.events.get(id);
      if (!ev) continue;
      seen.add(id);
      todo.push(...refIds(ev.pdu.auth_events));
    }
    return [...seen];
  }

  /** backfill: the `v` events and those before them, newest first, up to `limit`. */
  private backfill(from: string[], limit: number): Pdu[] {
    const seen = new Set<string>();
    const out: FakeEvent[] = [];
    let frontier = [...from];
    while (frontier.length > 0 && out.length < limit) {
      const next: string[] = [];
      for (const id of frontier) {
        const ev = this.events.get(id);
        if (seen.has(id) || !ev) continue;
        seen.add(id);
        out.push(ev);
        next.push(...refIds(ev.pdu.prev_events));
      }
      frontier = next;
    }
    return out
      .sort((a, b) => b.pdu.depth - a.pdu.depth)
      .slice(0, limit)
      .map((e) => e.pdu);
  }

  private missingEvents(body: Record<string, unknown>): Pdu[] {
    const earliest = new Set((body.earliest_events as string[]) ?? []);
    const limit = typeof body.limit === 'number' ? body.limit : 10;
    // As real servers do: nothing below min_depth, nor walked through.
    const minDepth = typeof body.min_depth === 'number' ? body.min_depth : 0;
    const out: FakeEvent[] = [];
    const seen = new Set<string>();
    let frontier = [...((body.latest_events as string[]) ?? [])].flatMap((id) => refIds(this.events.get(id)?.pdu.prev_events ?? []));
    while (frontier.length > 0 && out.length < limit) {
      const next: string[] = [];
      for (const id of frontier) {
        if (seen.has(id) || earliest.has(id)) continue;
        seen.add(id);
        const ev = this.events.get(id);
        if (!ev || ev.pdu.depth < minDepth) continue;
        out.push(ev);
        next.push(...refIds(ev.pdu.prev_events));
      }
      frontier = next;
    }
    return out
      .slice(0, limit)
      .sort((a, b) => a.pdu.depth - b.pdu.depth)
      .map((e) => e.pdu);
  }

  private remember(roomId: string, ev: FakeEvent): void {
    this.events.set(ev.eventId, ev);
    const state = new Map(this.stateAfter.get(refIds(ev.pdu.prev_events)[0]) ?? []);
    if (typeof ev.pdu.state_key === 'string') state.set(stateKeyOf(ev.pdu.type, ev.pdu.state_key), ev.eventId);
    this.stateAfter.set(ev.eventId, state);
    const cur = this.latest.get(roomId);
    if (!cur || (this.events.get(cur)?.pdu.depth ?? 0) <= ev.pdu.depth) this.latest.set(roomId, ev.eventId);
  }

  private tick(): number {
    return (this.clock += 1000);
  }
}

/** Routes our server's outgoing federation requests to the fakes by destination. */
export class FakeFederation implements FederationRequester {
  readonly servers = new Map<string, FakeRemoteServer>();
  /** Servers that do not answer (connection refused) for now. */
  readonly down = new Set<string>();

  add(server: FakeRemoteServer): FakeRemoteServer {
    this.servers.set(server.serverName, server);
    return server;
  }

  async request<T = unknown>(req: FederationRequest): Promise<FederationResult<T>> {
    const s = this.servers.get(req.destination);
    if (!s) return { ok: false, kind: 'resolve', status: 0, errcode: 'PARLEY_RESOLVE', error: `no fake server ${req.destination}` };
    if (this.down.has(req.destination)) return { ok: false, kind: 'network', status: 0, errcode: 'PARLEY_NETWORK', error: 'ECONNREFUSED' };
    // Round-trip through JSON, as the wire would.
    const res = s.answer(JSON.parse(JSON.stringify(req)) as FederationRequest);
    return JSON.parse(JSON.stringify(res)) as FederationResult<T>;
  }
}

const ok = (body: unknown): FederationResult => ({ ok: true, status: 200, body });
const notFound = (): FederationResult => ({ ok: false, kind: 'http', status: 404, errcode: 'M_NOT_FOUND', error: 'not found' });
