// The E2EE tests' processes must exit as soon as their tests are done. matrix-js-sdk arms
// timers it never clears (a 60–110 s abort timer per request, a 5-minute one per event that
// failed to decrypt); harness/polyfill.ts unrefs every timer the SDK arms. This checks that
// in a child process, without any server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const POLYFILL = new URL('./harness/polyfill.js', import.meta.url).href;

function runModule(code: string, timeoutMs: number): Promise<{ code: number | null; ms: number; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, ms: Date.now() - t0, stderr, timedOut });
    });
  });
}

describe('spec-test harness: matrix-js-sdk timers', () => {
  it('should not let the SDK’s request-timeout timers keep a finished process alive', async () => {
    const code = `
      await import(${JSON.stringify(POLYFILL)});
      const { timeoutSignal } = await import('matrix-js-sdk/lib/http-api/utils.js');
      timeoutSignal(110_000); // what every long-polling /sync arms
      setTimeout(() => {}, 20); // test code's own timers stay ref'd and still run
    `;
    const r = await runModule(code, 15_000);
    assert.equal(r.timedOut, false, `the process lingered (SDK timer still ref'd?)\n${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
  });

  it('should keep timers that test code arms holding the process open', async () => {
    const code = `
      await import(${JSON.stringify(POLYFILL)});
      setTimeout(() => process.exit(7), 300);
    `;
    const r = await runModule(code, 15_000);
    assert.equal(r.code, 7, `the test's own timer fired before the process exited\n${r.stderr}`);
  });
});
