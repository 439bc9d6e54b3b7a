// Starts the real Parley homeserver (homeserver/bin/parley.js) as a child process on a
// port of 19000–19999 with its own temporary data directory. Our own small starter rather
// than spec-tests' harness, because benchmarks need fixed ports, node flags (--cpu-prof),
// an existing data directory (seeded users) and the child's PID (for RSS).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerLogSource, tempDir, trackChild, removeDir } from './cleanup.js';
import { collectGarbage } from './inspectorGc.js';
import { allocPort } from './ports.js';
import { sleep } from './util.js';

/** bench/dist/lib/parley.js → <repo>/homeserver/bin/parley.js */
export const PARLEY_BIN = fileURLToPath(new URL('../../../homeserver/bin/parley.js', import.meta.url));

export interface ParleyOptions {
  /** Use (and keep) this data directory instead of a fresh temporary one. */
  dataDir?: string;
  /** Reuse a port (e.g. restarting on a seeded directory). */
  port?: number;
  /** Extra node flags for the server process. */
  nodeArgs?: string[];
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  registrationSharedSecret?: string;
  startTimeoutMs?: number;
  /** A YAML configuration file's text (flags still override it), e.g. a `federation:` section. */
  configYaml?: string;
  /** Open the inspector on a loopback port, so that gc() can force a full collection. */
  inspect?: boolean;
  /**
   * Hash passwords at a low scrypt cost (CHEAP_PASSWORD_HASHING), for set-up phases that
   * register thousands of users through /register; the hash is as long either way.
   */
  cheapPasswords?: boolean;
}

/**
 * Config section for set-up servers: scrypt N = 2^10 instead of 2^15 (~30× cheaper), so
 * 10,000 registrations fit the time budget. Never used by a server whose figure involves hashing.
 */
export const CHEAP_PASSWORD_HASHING = 'password_hashing:\n  scrypt_log_n: 10\n  allow_weak: true\n';

export interface Parley {
  readonly baseUrl: string;
  readonly serverName: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  /** Resident set size of the server process in KiB (Linux /proc), or NaN. */
  rssKb(): number;
  /** A full garbage collection in the server (needs `inspect: true`). */
  gc(): Promise<void>;
  /** SIGTERM, wait for exit (SIGKILL after 20 s); returns the exit code. */
  stop(): Promise<number | null>;
  /** stop() and remove the data directory if it was ours. */
  dispose(): Promise<void>;
  logs(): string;
}

export function readRssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/**
 * CPU time used so far (user + system, ms, 10 ms resolution at 100 ticks/s) by the whole
 * process and by its main thread (the event loop), from /proc (Linux only; NaN elsewhere).
 */
export function readCpuMs(pid: number): { process: number; mainThread: number } {
  const ticks = (path: string): number => {
    try {
      // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
      const stat = readFileSync(path, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return NaN;
    }
  };
  return { process: ticks(`/proc/${pid}/stat`) * 10, mainThread: ticks(`/proc/${pid}/task/${pid}/stat`) * 10 };
}

/** Node flags for the server process: BENCH_SERVER_NODE_ARGS, plus --cpu-prof when the runner asked for a profile. */
function serverNodeArgs(extra: string[] = []): string[] {
  const args = [...extra];
  const fromEnv = process.env.BENCH_SERVER_NODE_ARGS;
  if (fromEnv) args.push(...fromEnv.split(' ').filter(Boolean));
  const profDir = process.env.BENCH_CPU_PROF_DIR;
  if (profDir) args.push('--cpu-prof', `--cpu-prof-dir=${profDir}`);
  return args;
}

export async function startParley(opts: ParleyOptions = {}): Promise<Parley> {
  const port = opts.port ?? (await allocPort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? tempDir('data');
  const serverName = `127.0.0.1:${port}`;
  const baseUrl = `http://127.0.0.1:${port}`;
  let configFile = process.env.BENCH_PARLEY_CONFIG;
  let configYaml = opts.configYaml;
  if (opts.cheapPasswords) configYaml = `${configYaml ?? (configFile ? readFileSync(configFile, 'utf8') : '')}\n${CHEAP_PASSWORD_HASHING}`;
  if (configYaml !== undefined) {
    configFile = join(tempDir('config'), 'parley.yaml');
    writeFileSync(configFile, configYaml);
  }
  const inspectPort = opts.inspect ? await allocPort() : undefined;
  const args = [
    ...serverNodeArgs(opts.nodeArgs),
    ...(inspectPort !== undefined ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    PARLEY_BIN,
    'serve',
    ...(configFile ? ['--config', configFile] : []),
    '--server-name', serverName,
    '--listen', `127.0.0.1:${port}`,
    '--data', dataDir,
    '--open-registration',
    '--no-rate-limit',
    '--log-level', process.env.BENCH_PARLEY_LOG_LEVEL ?? 'warn',
    ...(opts.registrationSharedSecret ? ['--registration-shared-secret', opts.registrationSharedSecret] : []),
    ...(opts.extraArgs ?? []),
  ];
  let output = '';
  const append = (d: Buffer) => {
    output += d.toString('utf8');
    if (output.length > 200_000) output = output.slice(-200_000);
  };
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } });
  trackChild(child);
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  registerLogSource(`parley ${serverName}`, () => output);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`parley exited during startup (code ${child.exitCode}, signal ${child.signalCode}):\n${output.slice(-3000)}`);
    }
    try {
      const res = await fetch(`${baseUrl}/_matrix/client/versions`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`parley did not answer /versions within ${opts.startTimeoutMs ?? 60_000} ms:\n${output.slice(-3000)}`);
    }
    await sleep(100);
  }

  let stopped: Promise<number | null> | undefined;
  const stop = (): Promise<number | null> => {
    if (stopped) return stopped;
    stopped = (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    })();
    return stopped;
  };
  return {
    baseUrl,
    serverName,
    port,
    pid: child.pid!,
    dataDir,
    rssKb: () => readRssKb(child.pid!),
    async gc() {
      if (inspectPort === undefined) throw new Error('gc() needs startParley({ inspect: true })');
      await collectGarbage(inspectPort);
    },
    stop,
    async dispose() {
      await stop();
      if (ownDir) removeDir(dataDir);
    },
    logs: () => output,
  };
}
