// Helpers for the three-server federation tests (hr, legal, eng): client-API calls made
// exactly as a client would, and comparisons of what each server shows of a room.
import assert from 'node:assert/strict';
import type { FederatedServer } from '../harness/federation.js';
import { describeResponse, enc, expectOk, rawRequest, requestRetrying429, txnId, type Json, type User } from '../harness/http.js';
import { sleep } from '../harness/util.js';

export interface Member {
  server: FederatedServer;
  user: User;
}

/** POST /join with server_name: join through the named resident servers. */
export async function joinVia(m: Member, roomId: string, via: FederatedServer[]): Promise<void> {
  const qs = via.map((s) => `server_name=${enc(s.serverName)}`).join('&');
  const res = await requestRetrying429(m.server, 'POST', `/_matrix/client/v3/join/${enc(roomId)}?${qs}`, { token: m.user.accessToken, body: {} });
  const json = expectOk(res, `${m.user.userId} joins ${roomId} via ${via.map((s) => s.serverName).join(',')}`);
  assert.equal(json.room_id, roomId);
}

export async function send(m: Member, roomId: string, content: Json, type = 'm.room.message'): Promise<string> {
  const res = await rawRequest(m.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txnId())}`, {
    token: m.user.accessToken,
    body: content,
  });
  return expectOk(res, `${m.user.userId} sends ${type}`).event_id;
}

export const text = (m: Member, roomId: string, body: string): Promise<string> => send(m, roomId, { msgtype: 'm.text', body });

export async function putState(m: Member, roomId: string, type: string, content: Json, stateKey = ''): Promise<string> {
  const res = await rawRequest(m.server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, {
    token: m.user.accessToken,
    body: content,
  });
  return expectOk(res, `${m.user.userId} sets ${type}/${stateKey}`).event_id;
}

export async function getState(m: Member, roomId: string, type: string, stateKey = ''): Promise<Json | undefined> {
  const res = await rawRequest(m.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token: m.user.accessToken });
  if (res.status === 404) return undefined;
  return expectOk(res, `${m.user.userId} reads ${type}/${stateKey}`);
}

/** GET /event/{eventId}, or undefined while the server does not have it. */
export async function getEvent(m: Member, roomId: string, eventId: string): Promise<Json | undefined> {
  const res = await rawRequest(m.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`, { token: m.user.accessToken });
  if (res.status === 404) return undefined;
  return expectOk(res, `${m.user.userId} reads event ${eventId}`);
}

/** Polls until `m`'s server shows the event (and `check` passes on it). */
export async function waitForEvent(m: Member, roomId: string, eventId: string, check: (e: Json) => boolean = () => true, ms = 30_000): Promise<Json> {
  const deadline = Date.now() + ms;
  let last: Json | undefined;
  for (;;) {
    last = await getEvent(m, roomId, eventId);
    if (last !== undefined && check(last)) return last;
    if (Date.now() > deadline) {
      assert.fail(`${m.server.serverName} (${m.user.userId}) never showed ${eventId} as expected within ${ms} ms; last seen: ${JSON.stringify(last)}`);
    }
    await sleep(150);
  }
}

/** Polls until `check` holds, with a clear message otherwise. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await sleep(200);
  }
}

/** The room's timeline as `m`'s server has it, oldest first (every /messages page, dir=b). */
export async function timeline(m: Member, roomId: string): Promise<Json[]> {
  const events: Json[] = [];
  let from: string | undefined;
  for (let page = 0; page < 200; page++) {
    const qs = new URLSearchParams({ dir: 'b', limit: '100' });
    if (from !== undefined) qs.set('from', from);
    const res = await requestRetrying429(m.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?${qs}`, { token: m.user.accessToken });
    const json = expectOk(res, `/messages on ${m.server.serverName}`);
    events.push(...json.chunk);
    if (json.end === undefined || json.chunk.length === 0) return events.reverse();
    from = json.end;
  }
  assert.fail(`/messages on ${m.server.serverName} did not end`);
}

/** The timeline from `fromEventId` (inclusive) on, as event IDs. */
export async function timelineIdsFrom(m: Member, roomId: string, fromEventId: string): Promise<string[]> {
  const ids = (await timeline(m, roomId)).map((e) => e.event_id as string);
  const i = ids.indexOf(fromEventId);
  assert.ok(i >= 0, `${m.server.serverName}'s timeline lacks ${fromEventId}`);
  return ids.slice(i);
}

/** GET /state as sorted `type|state_key|event_id` lines. */
export async function stateSummary(m: Member, roomId: string): Promise<string[]> {
  const res = await rawRequest(m.server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/state`, { token: m.user.accessToken });
  const json = expectOk(res, `/state on ${m.server.serverName}`);
  assert.ok(Array.isArray(json), `/state is not an array: ${describeResponse(res)}`);
  return json.map((e: Json) => `${e.type}|${e.state_key}|${e.event_id}`).sort();
}

/** Sync once (timeout 0 unless given) and return the body. */
export async function syncOnce(m: Member, since?: string, timeoutMs = 0): Promise<Json> {
  const qs = new URLSearchParams({ timeout: String(timeoutMs) });
  if (since !== undefined) qs.set('since', since);
  const res = await requestRetrying429(m.server, 'GET', `/_matrix/client/v3/sync?${qs}`, { token: m.user.accessToken, timeoutMs: timeoutMs + 30_000 });
  return expectOk(res, `sync on ${m.server.serverName}`);
}

/** Long-polls /sync until an ephemeral event of the room passes `check`. */
export async function waitForEphemeral(m: Member, roomId: string, check: (e: Json) => boolean, what: string, ms = 30_000): Promise<Json> {
  const deadline = Date.now() + ms;
  let since: string | undefined;
  for (;;) {
    const body = await syncOnce(m, since, since === undefined ? 0 : 2000);
    const found = (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).find(check);
    if (found) return found;
    if (Date.now() > deadline) assert.fail(`${m.server.serverName} never showed ${what} within ${ms} ms`);
    since = body.next_batch;
  }
}

/**
 * Causal order: in `order` (a server's timeline), each `[before, after]` pair known to be
 * causally ordered (`after` was sent by a server that already had `before`) keeps that order.
 */
export function assertCausalOrder(order: string[], pairs: Array<[string, string]>, where: string): void {
  const pos = new Map(order.map((id, i) => [id, i]));
  for (const [before, after] of pairs) {
    const a = pos.get(before);
    const b = pos.get(after);
    assert.ok(a !== undefined && b !== undefined, `${where}: timeline lacks ${a === undefined ? before : after}`);
    assert.ok(a < b, `${where}: ${after} (at ${b}) comes before ${before} (at ${a}), which it follows in the DAG`);
  }
}
