// Raw HTTP helpers: the client-server API exactly as a client would call it.
import assert from 'node:assert/strict';
import { sleep, uniq } from './util.js';

export interface HasBaseUrl {
  readonly baseUrl: string;
  readonly serverName?: string;
}

export interface RequestOptions {
  token?: string;
  /** Serialised with JSON.stringify. */
  body?: unknown;
  /** Sent verbatim (Content-Type application/json unless headers override). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface RawResponse {
  status: number;
  json: Json;
  text: string;
  headers: Headers;
}

export async function rawRequest(server: HasBaseUrl, method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers['Authorization'] = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(server.baseUrl + path, {
    method,
    headers,
    body: body as BodyInit | undefined,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  let json: Json = undefined;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** Describes a response for assertion messages. */
export function describeResponse(res: RawResponse): string {
  return `HTTP ${res.status} ${res.text.length > 600 ? res.text.slice(0, 600) + '…' : res.text}`;
}

/** Asserts a 2xx (or the given) status and returns the JSON body. */
export function expectOk(res: RawResponse, what: string, status = 200): Json {
  assert.equal(res.status, status, `${what}: expected HTTP ${status}, got ${describeResponse(res)}`);
  return res.json;
}

/** Asserts a standard error response with exact status and errcode. */
export function expectError(res: RawResponse, status: number, errcode: string | string[], what: string): Json {
  const codes = Array.isArray(errcode) ? errcode : [errcode];
  assert.equal(res.status, status, `${what}: expected HTTP ${status} ${codes.join('|')}, got ${describeResponse(res)}`);
  assert.ok(res.json !== undefined && typeof res.json === 'object', `${what}: error body is not JSON: ${describeResponse(res)}`);
  assert.ok(codes.includes(res.json.errcode), `${what}: expected errcode ${codes.join('|')}, got ${describeResponse(res)}`);
  assert.equal(typeof res.json.error, 'string', `${what}: standard error responses MUST have an "error" string: ${describeResponse(res)}`);
  return res.json;
}

export const enc = encodeURIComponent;

export interface User {
  userId: string;
  localpart: string;
  password: string;
  accessToken: string;
  deviceId: string;
}

export function defaultPassword(localpart: string): string {
  return `pw-${localpart}-Correct-Horse-9`;
}

/** Retries a request while the server answers 429 (for setup on rate-limited servers). */
export async function requestRetrying429(server: HasBaseUrl, method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
  for (let attempt = 0; ; attempt++) {
    const res = await rawRequest(server, method, path, opts);
    if (res.status !== 429 || attempt > 30) return res;
    const ms = Number(res.json?.retry_after_ms ?? 1000);
    await sleep(Math.min(Math.max(ms, 50), 5000));
  }
}

/**
 * Registers through user-interactive auth: the first POST /register has no
 * `auth` and must answer 401 with a session and flows; the second completes
 * the m.login.dummy stage.
 */
export async function registerUser(
  server: HasBaseUrl,
  localpart: string = uniq('user'),
  opts: { password?: string; deviceId?: string; displayName?: string } = {},
): Promise<User> {
  const password = opts.password ?? defaultPassword(localpart);
  const body: Record<string, unknown> = { username: localpart, password };
  if (opts.deviceId !== undefined) body.device_id = opts.deviceId;
  if (opts.displayName !== undefined) body.initial_device_display_name = opts.displayName;
  const first = await requestRetrying429(server, 'POST', '/_matrix/client/v3/register', { body });
  assert.equal(first.status, 401, `register ${localpart} without auth: expected 401 UIA challenge, got ${describeResponse(first)}`);
  const session = first.json?.session;
  assert.equal(typeof session, 'string', `register UIA challenge has no session: ${describeResponse(first)}`);
  const second = await requestRetrying429(server, 'POST', '/_matrix/client/v3/register', {
    body: { ...body, auth: { type: 'm.login.dummy', session } },
  });
  const json = expectOk(second, `register ${localpart} with m.login.dummy`);
  assert.equal(typeof json.user_id, 'string', `register response lacks user_id: ${describeResponse(second)}`);
  assert.equal(typeof json.access_token, 'string', `register response lacks access_token: ${describeResponse(second)}`);
  assert.equal(typeof json.device_id, 'string', `register response lacks device_id: ${describeResponse(second)}`);
  return { userId: json.user_id, localpart, password, accessToken: json.access_token, deviceId: json.device_id };
}

/** POST /login with m.login.password and an m.id.user identifier. */
export async function loginRaw(server: HasBaseUrl, user: string, password: string, deviceId?: string): Promise<RawResponse> {
  const body: Record<string, unknown> = {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
  };
  if (deviceId !== undefined) body.device_id = deviceId;
  return requestRetrying429(server, 'POST', '/_matrix/client/v3/login', { body });
}

/** Logs in again as an existing user, giving a new device. */
export async function login(server: HasBaseUrl, user: User, deviceId?: string): Promise<User> {
  const res = await loginRaw(server, user.userId, user.password, deviceId);
  const json = expectOk(res, `login ${user.userId}`);
  return { ...user, accessToken: json.access_token, deviceId: json.device_id };
}

export async function createRoom(server: HasBaseUrl, user: User, body: Record<string, unknown> = {}): Promise<string> {
  const res = await requestRetrying429(server, 'POST', '/_matrix/client/v3/createRoom', { token: user.accessToken, body });
  const json = expectOk(res, `createRoom as ${user.userId}`);
  assert.equal(typeof json.room_id, 'string', `createRoom response lacks room_id: ${describeResponse(res)}`);
  return json.room_id;
}

export async function joinRoom(server: HasBaseUrl, user: User, roomIdOrAlias: string): Promise<string> {
  const res = await requestRetrying429(server, 'POST', `/_matrix/client/v3/join/${enc(roomIdOrAlias)}`, { token: user.accessToken, body: {} });
  const json = expectOk(res, `${user.userId} joins ${roomIdOrAlias}`);
  return json.room_id;
}

export async function invite(server: HasBaseUrl, user: User, roomId: string, userId: string): Promise<void> {
  const res = await requestRetrying429(server, 'POST', `/_matrix/client/v3/rooms/${enc(roomId)}/invite`, {
    token: user.accessToken,
    body: { user_id: userId },
  });
  expectOk(res, `${user.userId} invites ${userId}`);
}

let txnCounter = 0;
export function txnId(): string {
  return `t${Date.now()}-${process.pid}-${txnCounter++}`;
}

export async function sendRaw(server: HasBaseUrl, user: User, roomId: string, content: unknown, type = 'm.room.message', txn = txnId()): Promise<RawResponse> {
  return rawRequest(server, 'PUT', `/_matrix/client/v3/rooms/${enc(roomId)}/send/${enc(type)}/${enc(txn)}`, {
    token: user.accessToken,
    body: content,
  });
}

/** Sends an m.text message and returns its event ID. */
export async function sendText(server: HasBaseUrl, user: User, roomId: string, body: string): Promise<string> {
  const res = await sendRaw(server, user, roomId, { msgtype: 'm.text', body });
  const json = expectOk(res, `send "${body}" as ${user.userId}`);
  assert.equal(typeof json.event_id, 'string', `send response lacks event_id: ${describeResponse(res)}`);
  return json.event_id;
}

export async function sync(server: HasBaseUrl, user: User, params: Record<string, string | number | boolean> = {}, timeoutMs = 60_000): Promise<Json> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  const res = await requestRetrying429(server, 'GET', `/_matrix/client/v3/sync${qs ? '?' + qs : ''}`, { token: user.accessToken, timeoutMs });
  const json = expectOk(res, `sync as ${user.userId} ${qs}`);
  assert.equal(typeof json.next_batch, 'string', `sync lacks next_batch: ${describeResponse(res)}`);
  return json;
}

/** The joined-room timeline events of one room in a sync response ([] if absent). */
export function syncTimeline(syncBody: Json, roomId: string): Json[] {
  return syncBody?.rooms?.join?.[roomId]?.timeline?.events ?? [];
}

/**
 * Pages through /messages following `end` until the server omits it.
 * Returns every event in the order the server returned them.
 */
export async function paginateAll(
  server: HasBaseUrl,
  user: User,
  roomId: string,
  dir: 'b' | 'f',
  opts: { from?: string; limit?: number; maxPages?: number } = {},
): Promise<{ events: Json[]; pages: number }> {
  const events: Json[] = [];
  let from = opts.from;
  const limit = opts.limit ?? 100;
  const maxPages = opts.maxPages ?? 1000;
  for (let page = 1; ; page++) {
    assert.ok(page <= maxPages, `/messages dir=${dir} did not finish after ${maxPages} pages`);
    const qs = new URLSearchParams({ dir, limit: String(limit) });
    if (from !== undefined) qs.set('from', from);
    const res = await requestRetrying429(server, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/messages?${qs}`, { token: user.accessToken });
    const json = expectOk(res, `/messages dir=${dir} from=${from ?? '(none)'}`);
    assert.ok(Array.isArray(json.chunk), `/messages chunk is not an array: ${describeResponse(res)}`);
    assert.equal(typeof json.start, 'string', `/messages lacks start token: ${describeResponse(res)}`);
    assert.ok(json.chunk.length <= limit, `/messages returned ${json.chunk.length} events with limit=${limit}`);
    events.push(...json.chunk);
    if (json.end === undefined) return { events, pages: page };
    assert.equal(typeof json.end, 'string', `/messages end is not a string: ${describeResponse(res)}`);
    if (json.chunk.length === 0 && dir === 'b') {
      // A server may return one empty page before omitting end; two in a row is a loop.
      assert.notEqual(json.end, from, `/messages dir=b returned an empty chunk and the same end token: pagination would loop`);
    }
    if (json.chunk.length === 0 && dir === 'f') return { events, pages: page };
    from = json.end;
  }
}

/**
 * All m.room.message events in the room, oldest first, via /messages dir=b
 * starting from the end of the timeline (no `from`, allowed since spec v1.3).
 */
export async function allMessages(server: HasBaseUrl, user: User, roomId: string): Promise<Json[]> {
  const { events } = await paginateAll(server, user, roomId, 'b');
  return events.filter((e) => e.type === 'm.room.message').reverse();
}
