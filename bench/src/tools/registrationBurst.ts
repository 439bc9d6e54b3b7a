// A burst of registrations while one user polls /sync: /sync latency (timeout=0) before and
// during the burst, for a given password_hashing.max_concurrent. Not part of the suite (its
// figure has no target); it checks that password hashing leaves libuv threads to LevelDB.
//   node bench/dist/tools/registrationBurst.js [max_concurrent=2] [registrations=60]
import { makeAgent, request, target, type HttpTarget } from '../lib/http.js';
import { register, syncOnce, type BenchUser } from '../lib/matrix.js';
import { startParley } from '../lib/parley.js';
import { percentile } from '../lib/stats.js';

const maxConcurrent = Number(process.argv[2] ?? 2);
const burst = Number(process.argv[3] ?? 60);

async function syncLatencies(t: HttpTarget, u: BenchUser, since: string, until: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!until()) {
    const res = await request(t, 'GET', `/_matrix/client/v3/sync?timeout=0&since=${encodeURIComponent(since)}`, { token: u.accessToken });
    out.push(res.ms);
  }
  return out;
}

const fmt = (xs: number[]) => `n=${xs.length} p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(0)} ms`;

const server = await startParley({ configYaml: `password_hashing:\n  max_concurrent: ${maxConcurrent}\n` });
try {
  const t = target(server.baseUrl, makeAgent(128));
  const u = await register(t, 'poller');
  const since = await syncOnce(t, u);
  const quietEnd = performance.now() + 3000;
  const quiet = await syncLatencies(t, u, since, () => performance.now() > quietEnd);
  let done = false;
  const t0 = performance.now();
  const regs = Promise.all(Array.from({ length: burst }, (_, i) => register(t, `burst${i}`))).finally(() => (done = true));
  const during = await syncLatencies(t, u, since, () => done);
  await regs;
  console.log(`max_concurrent ${maxConcurrent}: ${burst} registrations in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`  /sync quiet:        ${fmt(quiet)}`);
  console.log(`  /sync during burst: ${fmt(during)}`);
} finally {
  await server.dispose();
}
