// send-to-sync: 100 users long-poll /sync in one room; one sender posts at 20 and at
// 100 msg/s (open loop). Send latency = PUT …/send round trip; delivery latency = from
// the send's start to each receiver's /sync response carrying the message (end of body),
// on a clock shared by the processes. Receivers run in a separate process.
// Ceiling: the same load against ceilings/longPollServer (node:http + SHA-256 + durable
// LevelDB put + wake), measured in the same run.
import { makeAgent, request, target, expectStatus, type HttpTarget } from '../lib/http.js';
import { createRoom, joinMany, registerMany, sendPath, type BenchUser } from '../lib/matrix.js';
import { startCeilingServer } from '../lib/ceiling.js';
import { openLoop } from '../lib/openLoop.js';
import { startParley } from '../lib/parley.js';
import { le, runBenchmark, type Op } from '../lib/result.js';
import { summarize, type Summary } from '../lib/stats.js';
import { SyncFleet } from '../lib/syncWorkers.js';
import type { Delivery } from '../workers/syncClients.js';
import { log, sleep } from '../lib/util.js';

const RECEIVERS = Number(process.env.BENCH_S2S_RECEIVERS ?? 100);
const RATES = [20, 100] as const;
const MEASURE_MS = Number(process.env.BENCH_S2S_SECONDS ?? 10) * 1000;
const WARMUP_MS = 2000;
const FILTER = JSON.stringify({ room: { timeline: { limit: 100 } }, presence: { types: [] } });

const TARGETS: Record<number, { p50: number; p99: number }> = { 20: { p50: 20, p99: 60 }, 100: { p50: 25, p99: 300 } };

interface RateResult {
  send: Summary;
  delivery: Summary;
  expected: number;
  delivered: number;
  sendErrors: number;
}

interface Setup {
  baseUrl: string;
  t: HttpTarget;
  senderToken: string;
  roomId: string;
  receiverTokens: string[];
}

async function measure(s: Setup, label: string): Promise<Map<number, RateResult>> {
  const marker = `bench:${label}:${Date.now()}:`;
  const fleet = await SyncFleet.start({ baseUrl: s.baseUrl, tokens: s.receiverTokens, filter: FILTER, marker, processes: 1, pollTimeoutMs: 30_000, batch: 50 });
  try {
    await fleet.waitHeld(1, 60_000);
    const out = new Map<number, RateResult>();
    let seq = 0;
    for (const rate of RATES) {
      const fire = (dueAt: Map<number, number>) => async (_i: number, due: number) => {
        const n = seq++;
        dueAt.set(n, due);
        const res = await request(s.t, 'PUT', sendPath(s.roomId), { token: s.senderToken, body: { msgtype: 'm.text', body: `${marker}${n}` } });
        expectStatus(res, 200, 'send');
      };
      // Warm-up at the same rate; its deliveries are dropped.
      await openLoop({ rate, durationMs: WARMUP_MS, fire: fire(new Map()) });
      await sleep(1000);
      await fleet.collect();
      const dueAt = new Map<number, number>();
      const r = await openLoop({ rate, durationMs: MEASURE_MS, fire: fire(dueAt), maxInflight: 2000 });
      // Stragglers: wait until every delivery arrived, or none arrived for 3 s (at most 30 s).
      const expectedAll = dueAt.size * s.receiverTokens.length;
      const deliveries: Delivery[] = [];
      const deadline = Date.now() + 30_000;
      let quietSince = Date.now();
      while (deliveries.length < expectedAll && Date.now() < deadline && Date.now() - quietSince < 3000) {
        await sleep(250);
        const got = (await fleet.collect()).filter((d) => dueAt.has(d.seq));
        if (got.length > 0) quietSince = Date.now();
        deliveries.push(...got);
      }
      const lat = deliveries.map((d) => d.at - dueAt.get(d.seq)!);
      const expected = dueAt.size * s.receiverTokens.length;
      // A message some receiver never saw counts as infinitely late.
      for (let k = deliveries.length; k < expected; k++) lat.push(Infinity);
      const result: RateResult = {
        send: summarize(r.latencies),
        delivery: summarize(lat),
        expected,
        delivered: deliveries.length,
        sendErrors: r.errors,
      };
      log(`${label} @${rate}/s: send p50 ${result.send.p50.toFixed(1)} p99 ${result.send.p99.toFixed(1)}; delivery p50 ${result.delivery.p50.toFixed(1)} p99 ${result.delivery.p99.toFixed(1)}; ${result.delivered}/${result.expected} delivered${r.errors ? `; ${r.errors} send errors (${r.lastError})` : ''}`);
      out.set(rate, result);
      await fleet.waitHeld(0.95, 30_000).catch(() => undefined);
    }
    return out;
  } finally {
    await fleet.stop();
  }
}

await runBenchmark('send-to-sync', async (ctx) => {
  // Ceiling first: same clients, same rates, minimal pipeline.
  let ceiling: Map<number, RateResult> | undefined;
  const cs = await startCeilingServer();
  try {
    ceiling = await measure(
      { baseUrl: cs.baseUrl, t: target(cs.baseUrl, makeAgent(512)), senderToken: 'sender', roomId: '!ceiling:bench', receiverTokens: Array.from({ length: RECEIVERS }, (_, i) => `r${i}`) },
      'ceiling',
    );
  } finally {
    await cs.dispose();
  }

  const server = await startParley();
  try {
    const t = target(server.baseUrl, makeAgent(512));
    const reg = await registerMany(t, 's2s', RECEIVERS + 1, 8);
    log(`registered ${RECEIVERS + 1} users in ${(reg.ms / 1000).toFixed(1)} s`);
    const [sender, ...receivers] = reg.users as [BenchUser, ...BenchUser[]];
    const roomId = await createRoom(t, sender, { preset: 'public_chat', name: 'send-to-sync' });
    await joinMany(t, receivers, roomId, 8);
    const parley = await measure({ baseUrl: server.baseUrl, t, senderToken: sender.accessToken, roomId, receiverTokens: receivers.map((u) => u.accessToken) }, 'parley');

    for (const rate of RATES) {
      const p = parley.get(rate)!;
      const c = ceiling.get(rate);
      const lost = p.expected - p.delivered;
      const note = `${p.delivered}/${p.expected} deliveries seen${lost > 0 ? ` (${lost} missing)` : ''}${p.sendErrors ? `, ${p.sendErrors} send errors` : ''}`;
      const row = (figure: string, v: number, ceil: number | undefined, target?: { op: Op; value: number }, n?: string) =>
        ctx.row({ figure, value: v, unit: 'ms', ceiling: ceil, target, note: n });
      row(`send p50 @${rate} msg/s`, p.send.p50, c?.send.p50);
      row(`send p99 @${rate} msg/s`, p.send.p99, c?.send.p99);
      row(`delivery p50 @${rate} msg/s (${RECEIVERS} receivers)`, p.delivery.p50, c?.delivery.p50, le(TARGETS[rate].p50), note);
      row(`delivery p99 @${rate} msg/s (${RECEIVERS} receivers)`, p.delivery.p99, c?.delivery.p99, le(TARGETS[rate].p99), lost > 0 ? 'missing deliveries count as infinitely late' : undefined);
    }
  } finally {
    await server.dispose();
  }
});
