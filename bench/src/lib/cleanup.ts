// Everything a benchmark process starts is registered here and removed when it exits,
// however it exits (normal end, exception, SIGTERM/SIGINT from the runner).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const children = new Set<ChildProcess>();
const dirs = new Set<string>();
const hooks: Array<() => void> = [];

export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `parley-bench-${prefix}-`));
  dirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  dirs.delete(dir);
}

export function onCleanup(fn: () => void): void {
  hooks.push(fn);
}

const logSources = new Map<string, () => string>();

/** Registers a server's output, printed (tail) if the benchmark fails. */
export function registerLogSource(name: string, logs: () => string): void {
  logSources.set(name, logs);
}

export function dumpLogSources(tailChars = 4000): void {
  for (const [name, logs] of logSources) {
    const text = logs();
    if (text.trim() === '') continue;
    process.stderr.write(`----- ${name} output (tail) -----\n${text.slice(-tailChars)}\n----- end ${name} -----\n`);
  }
}

function cleanupNow(): void {
  for (const fn of hooks.splice(0)) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) c.kill('SIGKILL');
  }
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

process.on('exit', cleanupNow);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    cleanupNow();
    process.exit(130);
  });
}
