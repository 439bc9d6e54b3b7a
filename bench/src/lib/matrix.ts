// Client-Server API calls the benchmarks need, on the lean HTTP client.
import { randomBytes } from 'node:crypto';
import { enc, expectStatus, request, type HttpTarget } from './http.js';
import { log, mapLimit } from './util.js';

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
}

/** Registers `count` users named `${prefix}${i}` with `concurrency` in flight, logging progress. */
export async function registerMany(t: HttpTarget, prefix: string, count: number, concurrency = 16): Promise<RegisterManyResult> {
  const t0 = performance.now();
  let done = 0;
  let lastLog = t0;
  const users = await mapLimit(
    Array.from({ length: count }, (_, i) => `${prefix}${i}`),
    concurrency,
    async (lp) => {
      const u = await register(t, lp);
      done++;
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        log(`registered ${done}/${count} (${((done * 1000) / (lastLog - t0)).toFixed(1)}/s)`);
      }
      return u;
    },
  );
  const ms = performance.now() - t0;
  return { users, ms, perSecond: (count * 1000) / ms };
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

/** Registers `count` users, logging progress, with a fallback of existing users. */
export async function joinMany(t: HttpTarget, users: readonly BenchUser[], roomId: string, concurrency = 16): Promise<number> {
  const t0 = performance.now();
  let done = 0;
  let lastLog = t0;
  await mapLimit(users, concurrency, async (u) => {
    await joinRoom(t, u, roomId);
    done++;
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      log(`joined ${done}/${users.length} (${((done * 1000) / (lastLog - t0)).toFixed(1)}/s)`);
    }
  });
  return performance.now() - t0;
}
