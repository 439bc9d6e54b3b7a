// Client-Server API calls the benchmarks need, on the lean HTTP client.
import { randomBytes } from 'node:crypto';
import { enc, expectStatus, request, type HttpTarget } from './http.js';
import { log } from './util.js';

export interface BenchUser {
  userId: string;
  localpart: string;
  accessToken: string;
  deviceId: string;
}

export const passwordFor = (localpart: string): string => `pw-${localpart}-Bench-9`;

/** Registration through user-interactive auth: 401 with a session, then m.login.dummy. */
export async function register(t: HttpTarget, localpart: string): Promise<BenchUser> {
  const body = { username: localpart, password: passwordFor(localpart), initial_device_display_name: 'bench' };
  for (let attempt = 0; ; attempt++) {
    const first = await request(t, 'POST', '/_matrix/client/v3/register', { body, timeoutMs: 120_000 });
    if (first.status !== 401) throw new Error(`register ${localpart}: expected 401 UIA challenge, got ${first.status} ${first.body.toString().slice(0, 200)}`);
    const session = first.json()?.session as string;
    const second = await request(t, 'POST', '/_matrix/client/v3/register', {
      body: { ...body, auth: { type: 'm.login.dummy', session } },
      timeoutMs: 120_000,
    });
    if (second.status === 429 && attempt < 5) continue;
    expectStatus(second, 200, `register ${localpart}`);
    const j = second.json();
    return { userId: j.user_id, localpart, accessToken: j.access_token, deviceId: j.device_id };
  }
}

export interface RegisterManyResult {
  users: BenchUser[];
  ms: number;
  perSecond: number;
  /** True when the time budget ran out before `count` users were registered. */
  capped: boolean;
}

/**
 * Registers up to `count` users named `${prefix}${i}` with `concurrency` in flight, logging
 * progress. With `budgetMs`, no new registration starts after the budget is spent (those in
 * flight finish), so the result may hold fewer users: registration hashes passwords with
 * scrypt and is deliberately slow.
 */
export async function registerMany(t: HttpTarget, prefix: string, count: number, concurrency = 16, budgetMs = Infinity): Promise<RegisterManyResult> {
  const t0 = performance.now();
  const deadline = t0 + budgetMs;
  let lastLog = t0;
  const users: BenchUser[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      users.push(await register(t, `${prefix}${i}`));
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`registered ${users.length}/${count} (${((users.length * 1000) / (lastLog - t0)).toFixed(1)}/s)`);
      }
    }
  });
  await Promise.all(lanes);
  const ms = performance.now() - t0;
  return { users, ms, perSecond: (users.length * 1000) / ms, capped: users.length < count };
}

export async function createRoom(t: HttpTarget, user: BenchUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await request(t, 'POST', '/_matrix/client/v3/createRoom', { token: user.accessToken, body });
  expectStatus(res, 200, `createRoom as ${user.userId}`);
  return res.json().room_id as string;
}

export async function joinRoom(t: HttpTarget, user: BenchUser, roomId: string): Promise<void> {
  const res = await request(t, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, { token: user.accessToken, body: {}, timeoutMs: 120_000 });
  expectStatus(res, 200, `${user.userId} joins ${roomId}`);
}

let txnCounter = 0;
export const txnId = (): string => `b${process.pid}.${Date.now().toString(36)}.${txnCounter++}.${randomBytes(3).toString('hex')}`;

export function sendPath(roomId: string, txn: string = txnId()): string {
  return `/_matrix/client/v3/rooms/${enc(roomId)}/send/m.room.message/${enc(txn)}`;
}

export async function sendText(t: HttpTarget, user: BenchUser, roomId: string, body: string): Promise<string> {
  const res = await request(t, 'PUT', sendPath(roomId), { token: user.accessToken, body: { msgtype: 'm.text', body } });
  expectStatus(res, 200, `send in ${roomId}`);
  return res.json().event_id as string;
}

/** A filter that keeps /sync small: no presence, no account data, no state, 1 timeline event. */
export const LEAN_FILTER = JSON.stringify({
  presence: { types: [] },
  account_data: { types: [] },
  room: { state: { types: [] }, ephemeral: { types: [] }, account_data: { types: [] }, timeline: { limit: 1 } },
});

export function syncPath(opts: { since?: string; timeoutMs?: number; filter?: string } = {}): string {
  const q = new URLSearchParams();
  if (opts.since !== undefined) q.set('since', opts.since);
  if (opts.timeoutMs !== undefined) q.set('timeout', String(opts.timeoutMs));
  if (opts.filter !== undefined) q.set('filter', opts.filter);
  const s = q.toString();
  return `/_matrix/client/v3/sync${s ? '?' + s : ''}`;
}

/** One /sync with timeout 0; returns next_batch. */
export async function syncOnce(t: HttpTarget, user: BenchUser, opts: { since?: string; filter?: string } = {}): Promise<string> {
  const res = await request(t, 'GET', syncPath({ ...opts, timeoutMs: 0 }), { token: user.accessToken, timeoutMs: 120_000 });
  expectStatus(res, 200, `/sync as ${user.userId}`);
  return res.json().next_batch as string;
}

/** Joins every user to `roomId` (public), logging progress; returns the elapsed ms. */
export async function joinMany(t: HttpTarget, users: readonly BenchUser[], roomId: string, concurrency = 16): Promise<number> {
  const r = await joinManyWithin(t, users, roomId, concurrency);
  return r.ms;
}

/** Like joinMany, but starts no new join once `budgetMs` is spent; returns who joined. */
export async function joinManyWithin(
  t: HttpTarget,
  users: readonly BenchUser[],
  roomId: string,
  concurrency = 16,
  budgetMs = Infinity,
): Promise<{ joined: BenchUser[]; ms: number; lastRatePerSecond: number }> {
  const t0 = performance.now();
  const deadline = t0 + budgetMs;
  let lastLog = t0;
  const joined: BenchUser[] = [];
  let next = 0;
  // Rate over the most recent 10% of joins, to show how it falls as the room grows.
  const stamps: number[] = [];
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, users.length)) }, async () => {
    while (next < users.length && performance.now() < deadline) {
      const u = users[next++];
      await joinRoom(t, u, roomId);
      joined.push(u);
      stamps.push(performance.now());
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`joined ${joined.length}/${users.length} (${((joined.length * 1000) / (lastLog - t0)).toFixed(1)}/s)`);
      }
    }
  });
  await Promise.all(lanes);
  const tail = Math.max(2, Math.floor(stamps.length / 10));
  const recent = stamps.slice(-tail);
  const lastRatePerSecond = recent.length >= 2 ? ((recent.length - 1) * 1000) / (recent[recent.length - 1] - recent[0]) : NaN;
  return { joined, ms: performance.now() - t0, lastRatePerSecond };
}
