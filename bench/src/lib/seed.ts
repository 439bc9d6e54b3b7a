// A data directory with many registered users, made once per suite run and shared by
// the benchmarks that need a crowd (memory, fan-out): registration hashes every password
// with scrypt, so it is the slowest part of their set-up. The runner points BENCH_SEED_DIR
// at a temporary directory for the whole run and removes it at the end; without it, a
// benchmark makes its own seed and throws it away.
//
// User IDs contain the server name, which here contains the port, so a seed must be
// served on the port it was made on.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeDir, tempDir } from './cleanup.js';
import type { BenchUser } from './matrix.js';
import { startParley, type Parley } from './parley.js';

export interface SeedMeta {
  port: number;
  users: BenchUser[];
  /** How long registering them took, and whether the time budget cut it short. */
  registerMs: number;
  registerPerSecond: number;
  requested: number;
  capped: boolean;
}

export interface Seed extends SeedMeta {
  dataDir: string;
}

function seedRoot(): string | undefined {
  return process.env.BENCH_SEED_DIR || undefined;
}

export function loadSeed(name: string): Seed | undefined {
  const root = seedRoot();
  if (!root) return undefined;
  const dir = join(root, name);
  if (!existsSync(join(dir, 'meta.json'))) return undefined;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as SeedMeta;
  return { ...meta, dataDir: join(dir, 'data') };
}

/** Copies a stopped server's data directory into the run's seed store (if there is one). */
export function saveSeed(name: string, dataDir: string, meta: SeedMeta): void {
  const root = seedRoot();
  if (!root) return;
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  cpSync(dataDir, join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta));
}

/** Starts Parley on a private copy of the seed, on the seed's port. */
export async function startFromSeed(seed: Seed): Promise<Parley> {
  const dir = tempDir('seeded');
  cpSync(seed.dataDir, dir, { recursive: true });
  const server = await startParley({ dataDir: dir, port: seed.port });
  return {
    ...server,
    async dispose() {
      await server.stop();
      removeDir(dir);
    },
  };
}
