// Starts the real Parley homeserver as a child process for black-box tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './util.js';

/** spec-tests/dist/harness/server.js → <repo>/homeserver/bin/parley.js */
export const PARLEY_BIN = fileURLToPath(new URL('../../../homeserver/bin/parley.js', import.meta.url));

export interface StartOptions {
  /** Keep rate limiting on (omit --no-rate-limit). Default false. */
  rateLimit?: boolean;
  /** Passed as --registration-shared-secret. */
  registrationSharedSecret?: string;
  /** Extra CLI arguments appended after the standard ones. */
  extraArgs?: string[];
  /** How long to wait for /versions to answer. Default 30 s. */
  startTimeoutMs?: number;
}

export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when SIGTERM was ignored and the harness had to SIGKILL. */
  forced: boolean;
  ms: number;
}

export interface TestServer {
  readonly baseUrl: string;
  readonly serverName: string;
  readonly port: number;
  readonly dataDir: string;
  /** SIGTERM and wait for exit (SIGKILL after 15 s). */
  stop(): Promise<StopResult>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<StopResult>;
  /** Start again on the same port with the same data dir. */
  restart(): Promise<void>;
  /** Stop (if running) and remove the data dir. Safe to call twice. */
  dispose(): Promise<void>;
  /** Everything the child printed so far. */
  logs(): string;
  /** Print the child's output to stderr (used when a test failed). */
  dumpLogs(reason: string): void;
  readonly running: boolean;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A port for a server started in another process, which must be told it before it listens.
 * Taken below the kernel's ephemeral range: a port from listen(0), closed and handed over,
 * could be taken meanwhile by any outgoing connection or another test's listen(0).
 */
export async function freePort(): Promise<number> {
  let end = 49_152; // IANA's ephemeral range, where /proc does not say Linux's
  try {
    end = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || end;
  } catch {
    // not Linux
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1_000, end - 10_000));
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

const MAX_LOG = 400_000;

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const serverName = `127.0.0.1:${port}`;
  const baseUrl = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-spec-'));
  dirs.add(dataDir);
  const args = [
    PARLEY_BIN,
    'serve',
    '--server-name', serverName,
    '--listen', `127.0.0.1:${port}`,
    '--data', dataDir,
    '--open-registration',
    ...(opts.rateLimit ? [] : ['--no-rate-limit']),
    // PARLEY_TEST_LOG_LEVEL=debug shows what a failing test's servers did.
    '--log-level', process.env.PARLEY_TEST_LOG_LEVEL ?? 'warn',
    ...(opts.registrationSharedSecret !== undefined ? ['--registration-shared-secret', opts.registrationSharedSecret] : []),
    ...(opts.extraArgs ?? []),
  ];

  let output = '';
  let child: ChildProcess | undefined;
  let exited: Promise<StopResult> | undefined;
  let expectingExit = false;
  let dumped = false;
  let disposed = false;
  let generation = 0;

  const append = (prefix: string, chunk: Buffer): void => {
    output += chunk
      .toString('utf8')
      .split('\n')
      .map((line, i, all) => (i === all.length - 1 && line === '' ? '' : `${prefix}${line}`))
      .join('\n');
    if (output.length > MAX_LOG) output = '…(truncated)…\n' + output.slice(-MAX_LOG);
  };

  const dumpLogs = (reason: string): void => {
    if (dumped) return;
    dumped = true;
    process.stderr.write(
      `\n----- parley ${serverName} output (${reason}) -----\n${output || '(no output)'}\n----- end parley ${serverName} -----\n`,
    );
  };

  const spawnChild = (): void => {
    generation++;
    const gen = generation;
    output += `\n[harness] starting (run ${gen}): node ${args.join(' ')}\n`;
    expectingExit = false;
    const started = Date.now();
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    child = c;
    live.add(c);
    // A server must not keep the test process alive by itself (e.g. the others of a set whose
    // start failed, never handed to an after hook): at exit, the handler above kills it.
    c.unref();
    for (const pipe of [c.stdout, c.stderr]) (pipe as unknown as { unref?: () => void } | null)?.unref?.();
    c.stdout?.on('data', (d: Buffer) => append('[out] ', d));
    c.stderr?.on('data', (d: Buffer) => append('[err] ', d));
    exited = new Promise<StopResult>((resolve) => {
      c.on('exit', (code, signal) => {
        live.delete(c);
        output += `[harness] run ${gen} exited code=${code} signal=${signal}\n`;
        if (!expectingExit && !disposed) dumpLogs(`server exited unexpectedly: code=${code} signal=${signal}`);
        resolve({ code, signal, forced: false, ms: Date.now() - started });
      });
    });
  };

  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    const c = child;
    for (;;) {
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) {
        expectingExit = true;
        dumpLogs('server exited during startup');
        throw new Error(`parley exited during startup (see output above); bin=${PARLEY_BIN}`);
      }
      try {
        const res = await fetch(`${baseUrl}/_matrix/client/versions`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) {
          await res.arrayBuffer();
          return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        dumpLogs('server never answered /versions');
        throw new Error(`parley did not answer GET /_matrix/client/versions within ${opts.startTimeoutMs ?? 30_000} ms`);
      }
      await sleep(100);
    }
  };

  const terminate = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<StopResult> => {
    const c = child;
    if (c === undefined || exited === undefined) return { code: null, signal: null, forced: false, ms: 0 };
    expectingExit = true;
    if (c.exitCode !== null || c.signalCode !== null) return exited;
    const t0 = Date.now();
    c.kill(signal);
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      output += '[harness] server ignored SIGTERM for 15 s; sending SIGKILL\n';
      c.kill('SIGKILL');
    }, 15_000);
    const result = await exited;
    clearTimeout(timer);
    return { ...result, forced, ms: Date.now() - t0 };
  };

  spawnChild();
  const server: TestServer = {
    baseUrl,
    serverName,
    port,
    dataDir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop: () => terminate('SIGTERM'),
    kill9: () => terminate('SIGKILL'),
    async restart() {
      if (server.running) throw new Error('restart() called while the server is still running; stop() or kill9() first');
      spawnChild();
      await waitReady();
    },
    async dispose() {
      if (disposed) return;
      const r = await terminate('SIGTERM');
      disposed = true;
      if (r.forced) process.stderr.write(`[harness] parley ${serverName} had to be SIGKILLed on dispose\n`);
      rmSync(dataDir, { recursive: true, force: true });
      dirs.delete(dataDir);
    },
    logs: () => output,
    dumpLogs,
  };
  try {
    await waitReady();
  } catch (err) {
    await server.dispose();
    throw err;
  }
  return server;
}
