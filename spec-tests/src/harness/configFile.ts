// A Parley config file written by a test (JSON is valid YAML), passed with --config.
// Flags the harness passes (server name, listener, data dir, registration) still override it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ConfigFile {
  readonly path: string;
  /** The --config flag for StartOptions.extraArgs. */
  readonly args: string[];
  remove(): void;
}

export function writeConfigFile(config: Record<string, unknown>): ConfigFile {
  const dir = mkdtempSync(join(tmpdir(), 'parley-spec-config-'));
  const path = join(dir, 'parley.yaml');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { path, args: ['--config', path], remove: () => rmSync(dir, { recursive: true, force: true }) };
}
