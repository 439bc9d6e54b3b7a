// Forces a full garbage collection in another Node process through its inspector
// (started with --inspect=127.0.0.1:<port>): HeapProfiler.collectGarbage over the
// DevTools protocol. Node 20 has no WebSocket client, so this speaks the minimum of
// RFC 6455 itself: one upgrade, masked text frames out, unmasked frames in.
// Memory figures then measure what is live, not how much garbage happened to be waiting.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

async function debuggerUrl(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5000) });
  const list = (await res.json()) as Array<{ webSocketDebuggerUrl?: string }>;
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  return url;
}

function connect(wsUrl: string): Promise<Socket> {
  const u = new URL(wsUrl);
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64') },
    });
    req.on('upgrade', (_res, socket) => resolve(socket));
    req.on('response', (res) => reject(new Error(`inspector refused the upgrade: HTTP ${res.statusCode}`)));
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('inspector upgrade timed out')));
    req.end();
  });
}

function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([header, mask, masked]);
}

/** Parses complete frames from `buf`; returns their text payloads and the unconsumed rest. */
function readFrames(buf: Buffer): { texts: string[]; rest: Buffer } {
  const texts: string[] = [];
  let off = 0;
  while (buf.length - off >= 2) {
    const opcode = buf[off] & 0x0f;
    let len = buf[off + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - off < 10) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      head = 10;
    }
    if (buf.length - off < head + len) break;
    if (opcode === 1) texts.push(buf.subarray(off + head, off + head + len).toString('utf8'));
    off += head + len;
  }
  return { texts, rest: buf.subarray(off) };
}

/** Runs a full GC in the process whose inspector listens on `port`. */
export async function collectGarbage(port: number, timeoutMs = 30_000): Promise<void> {
  const socket = await connect(await debuggerUrl(port));
  try {
    await new Promise<void>((resolve, reject) => {
      let buf: Buffer = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error('HeapProfiler.collectGarbage timed out')), timeoutMs);
      socket.on('data', (d: Buffer) => {
        const { texts, rest } = readFrames(Buffer.concat([buf, d]));
        buf = rest;
        for (const t of texts) {
          const msg = JSON.parse(t) as { id?: number; error?: { message: string } };
          if (msg.id !== 1) continue;
          clearTimeout(timer);
          if (msg.error) reject(new Error(msg.error.message));
          else resolve();
        }
      });
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.write(textFrame(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    });
  } finally {
    socket.destroy();
  }
}
