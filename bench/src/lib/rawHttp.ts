// A minimal HTTP/1.1 client for the benchmark's long-poll loops: one keep-alive
// connection, one GET at a time, responses framed by Content-Length (both servers the
// benchmarks drive send it; anything else is reported as an error). It does what a
// client must and nothing else, so that thousands of simulated users on the server's own
// machine take as little of it as possible.
import { connect, type Socket } from 'node:net';
import { nowMs } from './stats.js';

export interface RawResponse {
  status: number;
  body: Buffer;
  /** nowMs() when the response's first bytes arrived (the receiver "woke"). */
  wokeAt: number;
  /** nowMs() when it had arrived completely. */
  at: number;
}

type Done = (err: Error | undefined, res?: RawResponse) => void;

const HEAD_END = Buffer.from('\r\n\r\n');

export class RawConnection {
  private socket: Socket | undefined;
  private readonly headers: string;
  private pending: Done | undefined;
  private chunks: Buffer[] = [];
  private received = 0;
  private wokeAt = 0;
  /** Once the head is parsed: the status, and the response's total length (head + body). */
  private status = 0;
  private total = -1;
  private headLength = 0;

  constructor(
    private readonly host: string,
    private readonly port: number,
    headers: Record<string, string>,
    private readonly timeoutMs: number,
  ) {
    this.headers = `Host: ${host}:${port}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  }

  /** One GET; `done` is called once, with the response or the error that ended it. */
  get(path: string, done: Done): void {
    if (this.pending) throw new Error('a request is already in flight on this connection');
    this.pending = done;
    this.chunks = [];
    this.received = 0;
    this.total = -1;
    const socket = (this.socket ??= this.open());
    socket.write(`GET ${path} HTTP/1.1\r\n${this.headers}`);
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error('sync timed out')));
    // Only the current socket's events count: a closed one's may still arrive.
    socket.on('data', (c: Buffer) => this.socket === socket && this.onData(c));
    socket.on('error', (err) => this.socket === socket && this.fail(err));
    socket.on('close', () => this.socket === socket && this.fail(new Error('connection closed')));
    return socket;
  }

  private onData(c: Buffer): void {
    if (!this.pending) return this.fail(new Error('data with no request in flight'));
    if (this.received === 0) this.wokeAt = nowMs();
    this.chunks.push(c);
    this.received += c.length;
    if (this.total < 0 && !this.parseHead()) return;
    if (this.received < this.total) return;
    if (this.received > this.total) return this.fail(new Error('more bytes than the response holds'));
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const done = this.pending;
    this.pending = undefined;
    done(undefined, { status: this.status, body: all.subarray(this.headLength), wokeAt: this.wokeAt, at: nowMs() });
  }

  /** False while the head is incomplete. */
  private parseHead(): boolean {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    const end = all.indexOf(HEAD_END);
    if (end < 0) return false;
    const lines = all.subarray(0, end).toString('latin1').split('\r\n');
    this.status = Number(lines[0].split(' ')[1]);
    let length = -1;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      if (name === 'content-length') length = Number(line.slice(colon + 1).trim());
      else if (name === 'transfer-encoding') length = NaN;
    }
    if (!(length >= 0)) {
      this.fail(new Error('a response without Content-Length'));
      return false;
    }
    this.headLength = end + HEAD_END.length;
    this.total = this.headLength + length;
    return true;
  }

  /** Ends the request in flight with `err`; the connection is not reused. */
  private fail(err: Error): void {
    const done = this.pending;
    this.pending = undefined;
    this.close();
    done?.(err);
  }
}
