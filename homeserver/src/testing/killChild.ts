// Crash tests: run a child process that prints one line per acknowledged write, and SIGKILL
// it as soon as it has printed `lines` lines. Resolves with every line it printed.
import { spawn } from 'node:child_process';

export function runUntilKilled(script: string, args: string[], lines: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const reported: string[] = [];
    let buf = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const done = buf.split('\n');
      buf = done.pop() ?? '';
      reported.push(...done);
      if (reported.length >= lines) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(reported) : reject(new Error(`child exited with ${code}`))));
  });
}
