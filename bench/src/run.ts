// `npm run bench [-- NAME… ] [--write] [--cpu-prof NAME] [--strict] [--list]`
// Runs each benchmark in its own process (benchmarks/*.js, after the root `tsc -b`),
// prints a Markdown table of every figure against its target and the ceiling measured in
// the same run, writes bench/results/<timestamp>.json, and with --write bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem, platform, release } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jsonReplacer, jsonReviver } from './lib/json.js';
import type { Row } from './lib/result.js';
import { summarise } from './tools/cpuprofSummary.js';

interface BenchDef {
  name: string;
  file: string;
  /** Hard limit for the benchmark's process, seconds. */
  limit: number;
  what: string;
}

// Order matters: memory registers the crowd of users that fan-out reuses.
export const BENCHMARKS: BenchDef[] = [
  { name: 'state-res', file: 'stateRes.js', limit: 120, what: 'state resolution of 1,000 conflicted events over a 10,000-event auth chain' },
  { name: 'sync-initial', file: 'syncInitial.js', limit: 180, what: 'initial and empty incremental /sync for 100 rooms × 20 events' },
  { name: 'send-to-sync', file: 'sendToSync.js', limit: 300, what: 'send and delivery latency to 100 syncing users at 20 and 100 msg/s' },
  { name: 'send-throughput', file: 'sendThroughput.js', limit: 240, what: 'highest send rate with p99 ≤ 250 ms' },
  { name: 'fed-ingest', file: 'fedIngest.js', limit: 180, what: 'federation /send ingest rate' },
  { name: 'join-large-room', file: 'joinLargeRoom.js', limit: 300, what: 'joining a 20,000-member remote room' },
  { name: 'memory', file: 'memory.js', limit: 480, what: 'RSS idle, per idle user, per held /sync' },
  { name: 'fan-out', file: 'fanOut.js', limit: 420, what: 'one message to 10,000 syncing receivers' },
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = fileURLToPath(new URL('./benchmarks/', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');

interface Outcome {
  name: string;
  rows: Row[];
  seconds: number;
  exit: number | null;
  timedOut: boolean;
}

function parseArgs(argv: string[]): { names: string[]; write: boolean; prof: Set<string>; list: boolean; strict: boolean } {
  const names: string[] = [];
  const prof = new Set<string>();
  let write = false;
  let list = false;
  let strict = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--write') write = true;
    else if (a === '--list') list = true;
    else if (a === '--strict') strict = true;
    else if (a === '--cpu-prof') prof.add(argv[++i] ?? '');
    else if (a.startsWith('--cpu-prof=')) prof.add(a.slice('--cpu-prof='.length));
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else names.push(a);
  }
  for (const n of [...names, ...prof]) if (!BENCHMARKS.some((b) => b.name === n)) throw new Error(`unknown benchmark ${n}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  return { names, write, prof, list, strict };
}

function runOne(def: BenchDef, index: number, seedDir: string, profDir: string | undefined): Promise<Outcome> {
  const out = join(seedDir, `${def.name}.rows.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_OUT: out, BENCH_PORT_BASE: String(19000 + index * 100), BENCH_SEED_DIR: seedDir };
  if (profDir) env.BENCH_CPU_PROF_DIR = profDir;
  const t0 = Date.now();
  process.stderr.write(`\n=== ${def.name}: ${def.what} (limit ${def.limit} s) ===\n`);
  // Own process group, so a benchmark that overruns is stopped with everything it started.
  const child = spawn(process.execPath, [join(DIST, def.file)], { stdio: ['ignore', 'inherit', 'inherit'], env, detached: true });
  return new Promise<Outcome>((resolve) => {
    let timedOut = false;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`[bench] ${def.name} exceeded ${def.limit} s; stopping it\n`);
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 15_000).unref();
    }, def.limit * 1000);
    const onParentSignal = () => killGroup('SIGTERM');
    process.once('SIGINT', onParentSignal);
    process.once('SIGTERM', onParentSignal);
    child.on('exit', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', onParentSignal);
      process.off('SIGTERM', onParentSignal);
      // Stragglers of the group (a server the benchmark could not stop).
      killGroup('SIGKILL');
      let rows: Row[] = [];
      try {
        rows = JSON.parse(readFileSync(out, 'utf8'), jsonReviver) as Row[];
      } catch {
        rows = [];
      }
      if (timedOut) rows.push({ bench: def.name, figure: 'time limit', value: null, unit: 's', pass: false, note: `stopped after ${def.limit} s; figures above were measured before that` });
      else if (rows.length === 0) rows.push({ bench: def.name, figure: 'benchmark crashed', value: null, unit: '', pass: false, note: `exit code ${code}, no figures` });
      resolve({ name: def.name, rows, seconds: (Date.now() - t0) / 1000, exit: code, timedOut });
    });
  });
}

function fmt(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined) return 'n/a';
  if (!Number.isFinite(v)) return '∞';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function table(outcomes: Outcome[]): { md: string; notes: string } {
  const lines = ['| # | benchmark | figure | measured | target | ceiling | ratio | result |', '|---|---|---|---|---|---|---|---|'];
  const notes: string[] = [];
  let n = 0;
  for (const o of outcomes) {
    for (const r of o.rows) {
      n++;
      const target = r.target ? `${r.target.op === '<=' ? '≤' : '≥'} ${fmt(r.target.value, r.unit)}` : '—';
      const ceiling = r.ceiling === undefined ? '—' : fmt(r.ceiling, r.unit);
      const ratio = r.ratio === undefined || r.ratio === null ? '—' : Number.isFinite(r.ratio) ? `${r.ratio.toFixed(r.ratio >= 10 ? 0 : 2)}×` : '∞';
      const result = r.pass === null ? 'info' : r.pass ? 'PASS' : r.value === null ? 'FAIL (n/a)' : 'FAIL';
      lines.push(`| ${n} | ${r.bench} | ${r.figure} | ${fmt(r.value, r.unit)} | ${target} | ${ceiling} | ${ratio} | ${result} |`);
      if (r.note) notes.push(`${n}. ${r.note}`);
    }
  }
  return { md: lines.join('\n'), notes: notes.join('\n') };
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

function machine() {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

async function main(): Promise<number> {
  const { names, write, prof, list, strict } = parseArgs(process.argv.slice(2));
  if (list) {
    for (const b of BENCHMARKS) process.stdout.write(`${b.name.padEnd(16)} ${b.what}\n`);
    return 0;
  }
  const chosen = BENCHMARKS.filter((b) => names.length === 0 || names.includes(b.name) || prof.has(b.name));
  const started = new Date();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const m = machine();
  const commit = gitCommit();
  process.stderr.write(`[bench] ${chosen.map((b) => b.name).join(', ')} on ${m.cpu} ×${m.cores}, ${m.ramGiB} GiB, Node ${m.node}, commit ${commit}; load average ${m.loadAverageAtStart.join(' ')}\n`);
  const seedDir = mkdtempSync(join(tmpdir(), 'parley-bench-run-'));
  const outcomes: Outcome[] = [];
  const profiles: string[] = [];
  try {
    for (const def of chosen) {
      const index = BENCHMARKS.indexOf(def);
      const profDir = prof.has(def.name) ? join(RESULTS, 'profiles', `${stamp}-${def.name}`) : undefined;
      if (profDir) mkdirSync(profDir, { recursive: true });
      outcomes.push(await runOne(def, index, seedDir, profDir));
      if (profDir && existsSync(profDir)) {
        for (const f of readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'))) {
          const summary = summarise(join(profDir, f), 30);
          writeFileSync(join(profDir, f.replace(/\.cpuprofile$/, '.summary.txt')), summary + '\n');
          profiles.push(join(profDir, f));
          process.stderr.write(`\n${summary}\n`);
        }
      }
    }
  } finally {
    rmSync(seedDir, { recursive: true, force: true });
  }
  const totalSeconds = (Date.now() - started.getTime()) / 1000;
  const { md, notes } = table(outcomes);
  process.stdout.write(`\n${md}\n\nNotes:\n${notes}\n\nDurations: ${outcomes.map((o) => `${o.name} ${o.seconds.toFixed(0)} s`).join(', ')}; total ${totalSeconds.toFixed(0)} s\n`);

  mkdirSync(RESULTS, { recursive: true });
  const jsonPath = join(RESULTS, `${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify({ date: started.toISOString(), machine: m, commit, totalSeconds, benchmarks: outcomes, profiles }, jsonReplacer, 2) + '\n');
  process.stderr.write(`[bench] wrote ${jsonPath}\n`);
  if (write) {
    const doc = [
      '# Benchmark results',
      '',
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench${names.length ? ' -- ' + names.join(' ') : ''}\`; see README.md for what each figure means and how it is measured.`,
      '',
      '| machine | |',
      '|---|---|',
      `| CPU | ${m.cpu} |`,
      `| cores | ${m.cores} |`,
      `| RAM | ${m.ramGiB} GiB |`,
      `| Node | ${m.node} |`,
      `| OS | ${m.os} |`,
      `| commit | ${commit} |`,
      `| load average at start | ${m.loadAverageAtStart.join(', ')} |`,
      `| suite time | ${(totalSeconds / 60).toFixed(1)} min |`,
      '',
      md,
      '',
      'Notes:',
      '',
      notes,
      '',
    ].join('\n');
    writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), doc);
    process.stderr.write(`[bench] wrote bench/RESULTS.md\n`);
  }
  // Missing a target is a finding, not an error; --strict makes it the exit status (for CI).
  return strict && outcomes.some((o) => o.rows.some((r) => r.pass === false)) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
