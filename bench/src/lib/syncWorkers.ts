// Drives one or more syncClients worker processes: spreads tokens across them, starts
// the long-poll loops, waits until the server holds them, collects deliveries.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Delivery, StartMsg, Status, ToWorker } from '../workers/syncClients.js';
import { trackChild } from './cleanup.js';
import { log, sleep } from './util.js';

const WORKER = fileURLToPath(new URL('../workers/syncClients.js', import.meta.url));

export interface SyncFleetOptions {
  baseUrl: string;
  tokens: string[];
  since?: string;
  /** Per-token start tokens (same order as `tokens`). */
  sinces?: string[];
  filter?: string;
  pollTimeoutMs?: number;
  marker: string;
  processes?: number;
  setPresence?: 'online' | 'offline' | 'unavailable';
  repollDelayMs?: number;
  batch?: number;
  batchGapMs?: number;
}

export class SyncFleet {
  private constructor(private readonly workers: ChildProcess[]) {}

  static async start(o: SyncFleetOptions): Promise<SyncFleet> {
    const n = Math.max(1, Math.min(o.processes ?? 1, o.tokens.length));
    const workers: ChildProcess[] = [];
    const per = Math.ceil(o.tokens.length / n);
    const started: Promise<void>[] = [];
    for (let w = 0; w < n; w++) {
      const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
      trackChild(child);
      workers.push(child);
      const msg: StartMsg = {
        cmd: 'start',
        baseUrl: o.baseUrl,
        tokens: o.tokens.slice(w * per, (w + 1) * per),
        since: o.since,
        sinces: o.sinces?.slice(w * per, (w + 1) * per),
        filter: o.filter,
        pollTimeoutMs: o.pollTimeoutMs ?? 60_000,
        marker: o.marker,
        repollDelayMs: o.repollDelayMs,
        setPresence: o.setPresence,
        batch: o.batch ?? 100,
        batchGapMs: o.batchGapMs ?? 20,
      };
      started.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (m: { cmd: string }) => {
            if (m.cmd === 'started') {
              child.off('message', onMsg);
              resolve();
            }
          };
          child.on('message', onMsg);
          child.once('exit', (code) => reject(new Error(`sync worker exited early (code ${code})`)));
        }),
      );
      child.send(msg satisfies ToWorker);
    }
    await Promise.all(started);
    return new SyncFleet(workers);
  }

  private ask<T>(w: ChildProcess, msg: ToWorker, reply: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sync worker did not answer ${msg.cmd}`)), 30_000);
      const onMsg = (m: { cmd: string }) => {
        if (m.cmd !== reply) return;
        clearTimeout(timer);
        w.off('message', onMsg);
        resolve(m as T);
      };
      w.on('message', onMsg);
      w.send(msg);
    });
  }

  async status(): Promise<Status> {
    const all = await Promise.all(this.workers.map((w) => this.ask<Status>(w, { cmd: 'status' }, 'status')));
    return all.reduce((a, s) => ({
      cmd: 'status',
      loops: a.loops + s.loops,
      inflight: a.inflight + s.inflight,
      held: a.held + s.held,
      responses: a.responses + s.responses,
      errors: a.errors + s.errors,
      lastError: a.lastError ?? s.lastError,
      initialDone: a.initialDone + s.initialDone,
    }));
  }

  /** Waits until at least `fraction` of the loops are held by the server (≥ 1 s with no answer). */
  async waitHeld(fraction: number, timeoutMs: number): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    let last: Status | undefined;
    let lastLog = Date.now();
    while (Date.now() < deadline) {
      last = await this.status();
      if (last.held >= fraction * last.loops) return last;
      if (Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        log(`waiting for held syncs: ${last.held}/${last.loops} held, ${last.initialDone} past initial sync, ${last.errors} errors${last.lastError ? ` (${last.lastError})` : ''}`);
      }
      await sleep(250);
    }
    throw new Error(`only ${last?.held}/${last?.loops} /sync requests held after ${timeoutMs} ms (${last?.errors} errors; last: ${last?.lastError ?? 'none'})`);
  }

  async collect(): Promise<Delivery[]> {
    const all = await Promise.all(this.workers.map((w) => this.ask<{ deliveries: Delivery[] }>(w, { cmd: 'collect' }, 'deliveries')));
    const offsets: number[] = [];
    // Receiver indices are per worker; make them global.
    let off = 0;
    const out: Delivery[] = [];
    for (let i = 0; i < all.length; i++) {
      offsets.push(off);
      for (const d of all[i].deliveries) out.push({ ...d, r: d.r + off });
      off += 1_000_000;
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.exitCode !== null) return;
        const exited = new Promise<void>((r) => w.once('exit', () => r()));
        try {
          w.send({ cmd: 'stop' } satisfies ToWorker);
        } catch {
          w.kill('SIGKILL');
        }
        const t = setTimeout(() => w.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }),
    );
  }
}
