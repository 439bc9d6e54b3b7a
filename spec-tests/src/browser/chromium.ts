// Finds the Chromium the browser tests drive (playwright-core ships no browser): the one
// named by PARLEY_CHROMIUM, else the first chromium / chromium-browser / google-chrome on PATH.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findChromium(): string | undefined {
  const named = process.env['PARLEY_CHROMIUM'];
  if (named) return executable(named) ? named : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    for (const name of NAMES) if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export const CHROMIUM_MISSING =
  'Chromium was not found, and the browser end-to-end encryption test needs it: install it ' +
  '(Debian/Ubuntu: apt-get install -y chromium) or set PARLEY_CHROMIUM to a Chromium or Chrome executable.';
