// A child process (forked with IPC) that holds many /sync long-polls, so that the
// clients' own work never competes with the benchmark's sender on one event loop.
// Each loop: GET /sync?since=…&timeout=… → note when it returned and which benchmark
// messages it carried → again from next_batch. Messages are recognised by a body
// prefix (`marker`), which ends with the message's sequence number.
//
// Each loop has its own keep-alive connection and speaks HTTP/1.1 over it by hand
// (lib/rawHttp.ts): these clients share the machine with the server under test, and
// node:http's client (request objects, agent bookkeeping, listeners per request) made
// them take most of a core at 100 messages/s. Every answer is still parsed as JSON.
import { RawConnection, type RawResponse } from '../lib/rawHttp.js';
import { nowMs } from '../lib/stats.js';

export interface StartMsg {
  cmd: 'start';
  baseUrl: string;
  tokens: string[];
  /** Token to start from; undefined: an initial sync first (timeout 0). */
  since?: string;
  /** Per-token start tokens (overrides `since`). */
  sinces?: string[];
  filter?: string;
  /** The set_presence parameter (omitted: the server's default, i.e. online). */
  setPresence?: 'online' | 'offline' | 'unavailable';
  pollTimeoutMs: number;
  /** Body prefix of benchmark messages, e.g. `bench:run1:`. */
  marker: string;
  /**
   * Pause before polling again after a response that carried a benchmark message (default 0).
   * Fan-out uses it so that the clients' own re-poll stampede is not part of "time to wake".
   */
  repollDelayMs?: number;
  /** Loops started per batch, and the pause between batches (keeps the accept queue short). */
  batch: number;
  batchGapMs: number;
}

export type ToWorker = StartMsg | { cmd: 'status' } | { cmd: 'collect' } | { cmd: 'stop' };

export interface Delivery {
  /** Index of the receiving loop (its token). */
  r: number;
  seq: number;
  /** nowMs() when the response carrying it had arrived completely. */
  at: number;
  /** nowMs() when that response's headers arrived (the receiver "woke"). */
  wokeAt: number;
}

export interface Status {
  cmd: 'status';
  loops: number;
  /** Loops with a request outstanding. */
  inflight: number;
  /** Loops whose outstanding request was sent ≥ 1 s ago with nothing back (held by the server). */
  held: number;
  responses: number;
  errors: number;
  lastError?: string;
  initialDone: number;
}

interface Loop {
  token: string;
  /** The query string after `since` (filter, set_presence: the same for every request of its start message). */
  query: string;
  conn: RawConnection | undefined;
  since: string | undefined;
  sentAt: number;
  inflight: boolean;
  initialDone: boolean;
}

const loops: Loop[] = [];
let deliveries: Delivery[] = [];
let responses = 0;
let errors = 0;
let lastError: string | undefined;
let stopping = false;

function send(msg: unknown): void {
  process.send?.(msg);
}

function extract(json: unknown, marker: string, r: number, at: number, wokeAt: number): void {
  const join = (json as { rooms?: { join?: Record<string, { timeline?: { events?: Array<{ content?: { body?: unknown } }> } }> } })?.rooms?.join;
  if (!join) return;
  for (const room of Object.values(join)) {
    for (const ev of room.timeline?.events ?? []) {
      const body = ev.content?.body;
      if (typeof body === 'string' && body.startsWith(marker)) deliveries.push({ r, seq: Number(body.slice(marker.length)), at, wokeAt });
    }
  }
}

function poll(i: number, m: StartMsg, u: URL): void {
  if (stopping) return;
  const loop = loops[i];
  const since = loop.since === undefined ? 'timeout=0' : `since=${encodeURIComponent(loop.since)}&timeout=${m.pollTimeoutMs}`;
  loop.inflight = true;
  loop.sentAt = nowMs();
  loop.conn ??= new RawConnection(u.hostname, Number(u.port), { authorization: `Bearer ${loop.token}` }, m.pollTimeoutMs + 60_000);
  loop.conn.get(`/_matrix/client/v3/sync?${since}${loop.query}`, (err, res) => {
    loop.inflight = false;
    if (err || !res) {
      if (stopping) return;
      errors++;
      lastError = err?.message;
      loop.conn = undefined;
      setTimeout(() => poll(i, m, u), 500);
      return;
    }
    answered(i, m, u, res);
  });
}

function answered(i: number, m: StartMsg, u: URL, res: RawResponse): void {
  const loop = loops[i];
  responses++;
  const text = res.body.toString('utf8');
  if (res.status !== 200) {
    errors++;
    lastError = `HTTP ${res.status} ${text.slice(0, 200)}`;
    setTimeout(() => poll(i, m, u), 500);
    return;
  }
  const json = JSON.parse(text) as { next_batch?: string };
  const carried = loop.since !== undefined && text.includes(m.marker);
  if (carried) extract(json, m.marker, i, res.at, res.wokeAt);
  if (loop.since === undefined) loop.initialDone = true;
  loop.since = json.next_batch ?? loop.since;
  if (carried && m.repollDelayMs) setTimeout(() => poll(i, m, u), m.repollDelayMs);
  else poll(i, m, u);
}

function status(): Status {
  const t = nowMs();
  let inflight = 0;
  let held = 0;
  let initialDone = 0;
  for (const l of loops) {
    if (l.inflight) inflight++;
    if (l.inflight && l.since !== undefined && t - l.sentAt >= 1000) held++;
    if (l.initialDone || l.since !== undefined) initialDone++;
  }
  return { cmd: 'status', loops: loops.length, inflight, held, responses, errors, lastError, initialDone };
}

process.on('message', (msg: ToWorker) => {
  if (msg.cmd === 'start') {
    const u = new URL(msg.baseUrl);
    const q = new URLSearchParams();
    if (msg.filter) q.set('filter', msg.filter);
    if (msg.setPresence) q.set('set_presence', msg.setPresence);
    const query = q.size > 0 ? `&${q}` : '';
    const base = loops.length;
    msg.tokens.forEach((token, k) => {
      const since = msg.sinces?.[k] ?? msg.since;
      loops.push({ token, query, conn: undefined, since, sentAt: 0, inflight: false, initialDone: since !== undefined });
    });
    // Start in batches, bounded in count by the token list.
    let next = 0;
    const startBatch = (): void => {
      const end = Math.min(msg.tokens.length, next + msg.batch);
      for (; next < end; next++) poll(base + next, msg, u);
      if (next < msg.tokens.length) setTimeout(startBatch, msg.batchGapMs);
      else send({ cmd: 'started', loops: loops.length });
    };
    startBatch();
  } else if (msg.cmd === 'status') {
    send(status());
  } else if (msg.cmd === 'collect') {
    send({ cmd: 'deliveries', deliveries });
    deliveries = [];
  } else if (msg.cmd === 'stop') {
    stopping = true;
    for (const l of loops) l.conn?.close();
    send({ ...status(), cmd: 'stopped' });
    setTimeout(() => process.exit(0), 50);
  }
});
process.on('disconnect', () => process.exit(0));
