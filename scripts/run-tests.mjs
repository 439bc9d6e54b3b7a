// Runs the compiled tests with Node's own test runner.
// `node scripts/run-tests.mjs [unit|spec]` — default: both, unit tests first.
// Unit tests live beside the code (`*.test.ts` → `dist/**/*.test.js`);
// black-box tests live in spec-tests/ and start real server processes, so they
// run with less concurrency.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function findTests(dir) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out.sort();
}

const suites = {
  unit: { dirs: ['federation/dist', 'e2ee/dist', 'homeserver/dist'], concurrency: 2 },
  spec: { dirs: ['spec-tests/dist'], concurrency: 2 },
};
const wanted = process.argv[2] ? [process.argv[2]] : ['unit', 'spec'];
let failed = false;
for (const name of wanted) {
  const suite = suites[name];
  if (!suite) throw new Error(`unknown suite ${name}`);
  const files = suite.dirs.flatMap((d) => findTests(join(root, d)));
  if (files.length === 0) {
    console.error(`no ${name} tests found — did the build run?`);
    failed = true;
    continue;
  }
  console.log(`\n# ${name}: ${files.length} test files`);
  const res = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${suite.concurrency}`, '--test-reporter=spec', ...files],
    { stdio: 'inherit', cwd: root },
  );
  if (res.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
