// The ceiling for send-to-sync, send-throughput and fan-out: the least a homeserver must do,
// on node:http with no framework. PUT …/send hashes the event (SHA-256), writes it to
// LevelDB durably (sync: true, i.e. fsync'd before the answer), then wakes every held
// GET /sync, which answers with the events after its `since`. No auth, no state, no
// federation, one global timeline: whatever Parley costs above this is its own overhead.
//
// Usage: node longPollServer.js <port> <dataDir>   (prints "ready" when listening)
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Level } from 'level';

const port = Number(process.argv[2]);
const dir = process.argv[3];
if (!Number.isInteger(port) || !dir) throw new Error('usage: longPollServer.js <port> <dataDir>');

interface Stored {
  roomId: string;
  event: Record<string, unknown>;
}
interface Waiter {
  since: number;
  res: ServerResponse;
  timer: NodeJS.Timeout;
}

const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
await db.open();
const timeline: Stored[] = [];
const waiters = new Set<Waiter>();
let counter = 0;

function syncBody(since: number): string {
  const rooms: Record<string, { timeline: { events: unknown[]; limited: boolean } }> = {};
  for (let i = since; i < timeline.length; i++) {
    const s = timeline[i];
    (rooms[s.roomId] ??= { timeline: { events: [], limited: false } }).timeline.events.push(s.event);
  }
  return JSON.stringify({ next_batch: `s${timeline.length}`, rooms: { join: rooms } });
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function wakeAll(): void {
  for (const w of waiters) {
    clearTimeout(w.timer);
    reply(w.res, 200, syncBody(w.since));
  }
  waiters.clear();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const SEND = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/?]+)/;

const server = createServer(async (req, res) => {
  const url = req.url ?? '/';
  try {
    const send = req.method === 'PUT' ? SEND.exec(url) : null;
    if (send) {
      const raw = await readBody(req);
      const event: Record<string, unknown> = {
        type: decodeURIComponent(send[2]),
        room_id: decodeURIComponent(send[1]),
        sender: req.headers.authorization ?? '',
        origin_server_ts: Date.now(),
        content: JSON.parse(raw.toString('utf8')),
      };
      const json = JSON.stringify(event);
      event.event_id = '$' + createHash('sha256').update(json).digest('base64url');
      const seq = ++counter;
      await db.put(String(seq).padStart(12, '0'), JSON.stringify(event), { sync: true });
      timeline.push({ roomId: event.room_id as string, event });
      if (timeline.length > 200_000) timeline.splice(0, 100_000); // bounded memory; tokens stay valid enough for a benchmark
      reply(res, 200, JSON.stringify({ event_id: event.event_id }));
      wakeAll();
      return;
    }
    if (req.method === 'GET' && url.startsWith('/_matrix/client/v3/sync')) {
      const q = new URL(url, 'http://x').searchParams;
      const since = Number(/^s(\d+)$/.exec(q.get('since') ?? '')?.[1] ?? -1);
      const timeout = Number(q.get('timeout') ?? 0);
      if (since < 0 || since < timeline.length || timeout <= 0) return reply(res, 200, syncBody(Math.max(0, since)));
      const w: Waiter = {
        since,
        res,
        timer: setTimeout(() => {
          waiters.delete(w);
          reply(res, 200, syncBody(since));
        }, timeout),
      };
      waiters.add(w);
      res.on('close', () => {
        clearTimeout(w.timer);
        waiters.delete(w);
      });
      return;
    }
    if (url.startsWith('/_matrix/client/versions')) return reply(res, 200, '{"versions":["v1.11"]}');
    reply(res, 404, '{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}');
  } catch (err) {
    reply(res, 500, JSON.stringify({ errcode: 'M_UNKNOWN', error: String(err) }));
  }
});
server.keepAliveTimeout = 120_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));

const shutdown = async () => {
  for (const w of waiters) {
    clearTimeout(w.timer);
    w.res.destroy();
  }
  waiters.clear();
  server.close();
  server.closeAllConnections();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
