// send-throughput: open-loop rate sweep of PUT …/send from many clients into many rooms
// (every write durable). A step passes when every send succeeds, p99 ≤ 250 ms and the
// server keeps up (answers ≥ 95% of the offered rate); the figure is the highest passing
// rate. Ceiling: the same sweep against ceilings/longPollServer (durable LevelDB put).
import { makeAgent, request, target, expectStatus, type HttpTarget } from '../lib/http.js';
import { createRoom, joinRoom, registerMany, sendPath } from '../lib/matrix.js';
import { startCeilingServer } from '../lib/ceiling.js';
import { openLoop } from '../lib/openLoop.js';
import { startParley } from '../lib/parley.js';
import { ge, runBenchmark } from '../lib/result.js';
import { summarize } from '../lib/stats.js';
import { log, mapLimit, sleep } from '../lib/util.js';

const USERS = 40;
const ROOMS = 20;
const STEP_MS = Number(process.env.BENCH_TP_STEP_SECONDS ?? 5) * 1000;
const P99_LIMIT = 250;
const RATES = [50, 100, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200];

interface Sender {
  token: string;
  roomId: string;
}

interface Sweep {
  best: number;
  steps: string[];
  bestP99?: number;
}

async function sweep(t: HttpTarget, senders: Sender[], label: string): Promise<Sweep> {
  let n = 0;
  const fire = async () => {
    const s = senders[n++ % senders.length];
    const res = await request(t, 'PUT', sendPath(s.roomId), { token: s.token, body: { msgtype: 'm.text', body: `throughput ${n}` }, timeoutMs: 30_000 });
    expectStatus(res, 200, 'send');
  };
  await openLoop({ rate: 50, durationMs: 2000, fire }); // warm-up
  let best = 0;
  let bestP99: number | undefined;
  const steps: string[] = [];
  for (const rate of RATES) {
    await sleep(1000);
    const r = await openLoop({ rate, durationMs: STEP_MS, fire, maxInflight: 4000, drainMs: 30_000 });
    const s = summarize(r.latencies);
    const keptUp = r.completed >= 0.95 * r.offered && r.achievedPerSecond >= 0.95 * rate;
    const ok = r.errors === 0 && s.p99 <= P99_LIMIT && keptUp;
    const line = `${rate}/s: p50 ${s.p50.toFixed(1)} p99 ${s.p99.toFixed(1)} ms, achieved ${r.achievedPerSecond.toFixed(0)}/s, ${r.errors} errors${r.lastError ? ` (${r.lastError})` : ''} → ${ok ? 'ok' : 'over'}`;
    log(`${label} ${line}`);
    steps.push(line);
    if (!ok) break;
    best = rate;
    bestP99 = s.p99;
  }
  return { best, steps, bestP99 };
}

await runBenchmark('send-throughput', async (ctx) => {
  const cs = await startCeilingServer();
  let ceiling: Sweep;
  try {
    const senders = Array.from({ length: USERS }, (_, i) => ({ token: `u${i}`, roomId: `!r${i % ROOMS}:bench` }));
    ceiling = await sweep(target(cs.baseUrl, makeAgent(1024)), senders, 'ceiling');
  } finally {
    await cs.dispose();
  }

  const server = await startParley();
  try {
    const t = target(server.baseUrl, makeAgent(1024));
    const { users } = await registerMany(t, 'tp', USERS, 8);
    // Room k: created by user k, joined by user k + ROOMS.
    const rooms = await mapLimit(users.slice(0, ROOMS), 4, (u) => createRoom(t, u, { preset: 'public_chat' }));
    await mapLimit(users.slice(ROOMS), 8, (u, i) => joinRoom(t, u, rooms[i % ROOMS]));
    const senders = users.map((u, i) => ({ token: u.accessToken, roomId: rooms[i % ROOMS] }));
    const p = await sweep(t, senders, 'parley');
    ctx.row({
      figure: `highest rate with send p99 ≤ ${P99_LIMIT} ms (${USERS} clients, ${ROOMS} rooms)`,
      value: p.best,
      unit: 'msg/s',
      target: ge(300),
      ceiling: ceiling.best,
      note: `steps: ${p.steps.join('; ')}${ceiling.best === RATES[RATES.length - 1] ? `; ceiling reached the top of the sweep (${ceiling.best}/s)` : ''}`,
    });
  } finally {
    await server.dispose();
  }
});
