// Starts the minimal long-poll pipeline (ceilings/longPollServer.js) as a child process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readRssKb } from './parley.js';
import { removeDir, tempDir, trackChild } from './cleanup.js';
import { collectGarbage } from './inspectorGc.js';
import { allocPort } from './ports.js';
import { withTimeout } from './util.js';

const SERVER = fileURLToPath(new URL('../ceilings/longPollServer.js', import.meta.url));

export interface CeilingServer {
  baseUrl: string;
  pid: number;
  rssKb(): number;
  /** A full garbage collection in the ceiling server (it always runs with the inspector on). */
  gc(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startCeilingServer(): Promise<CeilingServer> {
  const port = await allocPort();
  const dir = tempDir('ceiling');
  const inspectPort = await allocPort();
  const child = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, SERVER, String(port), dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  trackChild(child);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`ceiling server exited (code ${code})`)));
    }),
    20_000,
    'ceiling server start',
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    rssKb: () => readRssKb(child.pid!),
    gc: () => collectGarbage(inspectPort),
    async dispose() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      removeDir(dir);
    },
  };
}
