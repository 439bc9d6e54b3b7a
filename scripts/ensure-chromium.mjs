// Before the black-box tests: make sure a Chromium exists for the browser end-to-end
// encryption test (playwright-core ships none, and npm cannot fetch browsers here). Uses
// PARLEY_CHROMIUM or one on PATH; otherwise installs Debian's package with apt-get (as root,
// or through sudo). Where that is impossible it says so and the browser test fails, clearly.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

const executable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (name) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && executable(join(dir, name)));

if (process.env.PARLEY_CHROMIUM || NAMES.some(onPath)) process.exit(0);

if (!onPath('apt-get')) {
  console.warn('ensure-chromium: no Chromium and no apt-get; install Chromium or set PARLEY_CHROMIUM (the browser test will fail).');
  process.exit(0);
}
const asRoot = process.getuid?.() === 0 ? [] : ['sudo'];
const run = (args) => {
  console.log(`ensure-chromium: ${[...asRoot, ...args].join(' ')}`);
  const res = spawnSync(asRoot[0] ?? args[0], asRoot.length ? args : args.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return res.status === 0;
};
if (!run(['apt-get', 'update']) || !run(['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'])) {
  console.warn('ensure-chromium: installing chromium failed (the browser test will fail).');
}
