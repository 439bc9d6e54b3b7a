// memory: resident set size (VmRSS from /proc/<pid>/status) of the Parley process.
//  1. idle: a fresh server on an empty database, 5 s after start-up.
//  2. per registered idle user: register up to 10,000 users (through /register, on a
//     server configured with a low scrypt cost so that this fits the time budget; the
//     phase still has a budget and the figure is per user actually registered); restart the server on that database, let every user make one
//     authenticated request (so their session is known, as on a live server), settle,
//     and divide the growth over a baseline server that served as many requests for one
//     user. The growth measured in the registering process itself (which also holds
//     scrypt's freed-but-retained memory) is reported alongside.
//  3. per held /sync: 5,000 long-polls held (a separate client process), over the RSS
//     just before they were opened. Ceiling: the same against ceilings/longPollServer.
// The idle figure's ceiling is that server idle. The per-user figure has none: the least a
// server must keep for an idle user (a session's token and ID, ~0.2 KB) is below the noise
// of the two baselines it is the difference of (±2.6 KB per user at 10,000 users).
// RSS is what the operator sees. Before each reading the server is left alone for a few
// seconds and a full GC is forced through its inspector (--inspect on loopback), so that
// garbage that happens to be uncollected does not count as memory the server needs.
import { makeAgent, request, target, expectStatus, type HttpTarget } from '../lib/http.js';
import { registerMany, syncOnce, type BenchUser } from '../lib/matrix.js';
import { startCeilingServer } from '../lib/ceiling.js';
import { startParley } from '../lib/parley.js';
import { tempDir } from '../lib/cleanup.js';
import { allocPort } from '../lib/ports.js';
import { le, runBenchmark } from '../lib/result.js';
import { saveSeed } from '../lib/seed.js';
import { median } from '../lib/stats.js';
import { SyncFleet } from '../lib/syncWorkers.js';
import { log, mapLimit, sleep } from '../lib/util.js';

const USERS = Number(process.env.BENCH_MEM_USERS ?? 10_000);
const HELD = Number(process.env.BENCH_MEM_SYNCS ?? 5_000);
const REGISTER_BUDGET_MS = Number(process.env.BENCH_REGISTER_SECONDS ?? 120) * 1000;

/**
 * RSS in KiB once things have settled: wait, force a full GC in the process (through its
 * inspector), wait again, then the median of three samples 500 ms apart.
 */
async function settledRss(p: { rssKb(): number; gc(): Promise<void> }, ms = 4000): Promise<number> {
  await sleep(ms / 2);
  await p.gc();
  await sleep(Math.max(500, ms / 2 - 1500));
  const samples: number[] = [];
  for (let i = 0; i < 3; i++) {
    await sleep(500);
    samples.push(p.rssKb());
  }
  return median(samples);
}

async function whoamiAll(t: HttpTarget, users: readonly BenchUser[], times = 1): Promise<void> {
  await mapLimit(Array.from({ length: users.length * times }, (_, i) => users[i % users.length]), 32, async (u) => {
    const res = await request(t, 'GET', '/_matrix/client/v3/account/whoami', { token: u.accessToken });
    expectStatus(res, 200, 'whoami');
  });
}

const MB = (kb: number) => kb / 1024;

await runBenchmark('memory', async (ctx) => {
  // 1. Idle.
  let idleKb: number;
  {
    const server = await startParley({ inspect: true });
    try {
      const t = target(server.baseUrl, makeAgent(64));
      await request(t, 'GET', '/_matrix/client/versions');
      idleKb = await settledRss(server, 5000);
      if (!Number.isFinite(idleKb)) {
        ctx.notAvailable('idle RSS, empty database', 'MB', le(120), 'no /proc/<pid>/status on this system');
        return;
      }
    } finally {
      await server.dispose();
    }
    // The ceiling: the ceiling server (node:http and LevelDB, nothing else), measured the same way.
    const cs = await startCeilingServer();
    let ceilingKb: number;
    try {
      await request(target(cs.baseUrl, makeAgent(64)), 'GET', '/_matrix/client/versions');
      ceilingKb = await settledRss(cs, 5000);
    } finally {
      await cs.dispose();
    }
    ctx.row({ figure: 'idle RSS, empty database', value: MB(idleKb), unit: 'MB', target: le(120), ceiling: MB(ceilingKb), note: 'ceiling: the ceiling server (node:http and LevelDB), idle' });
  }

  // 2. Registered idle users.
  const port = await allocPort();
  const dataDir = tempDir('crowd');
  let users: BenchUser[];
  let warmNote: string;
  let regNote: string;
  {
    const server = await startParley({ dataDir, port, inspect: true, cheapPasswords: true });
    const t = target(server.baseUrl, makeAgent(64));
    const beforeKb = await settledRss(server, 3000);
    const reg = await registerMany(t, 'crowd', USERS, 16, REGISTER_BUDGET_MS);
    users = reg.users;
    const afterKb = await settledRss(server, 5000);
    warmNote = `in the registering process: ${((afterKb - beforeKb) / users.length).toFixed(1)} KB/user`;
    regNote = `${users.length} users registered in ${(reg.ms / 1000).toFixed(0)} s (${reg.perSecond.toFixed(1)}/s${reg.capped ? `; ${USERS} would take ~${(USERS / reg.perSecond / 60).toFixed(0)} min, over the ${REGISTER_BUDGET_MS / 1000} s budget` : ''})`;
    log(regNote);
    await server.stop();
    saveSeed('crowd', dataDir, { port, users, registerMs: reg.ms, registerPerSecond: reg.perSecond, requested: USERS, capped: reg.capped });
  }
  // Baseline: a fresh server with one user that serves as many requests, measured the same way,
  // so that heap growth from merely serving requests is not counted per user.
  let busyKb: number;
  {
    const base = await startParley({ inspect: true });
    try {
      const t = target(base.baseUrl, makeAgent(64));
      const { users: one } = await registerMany(t, 'base', 1, 1);
      await settledRss(base, 3000);
      await whoamiAll(t, one, users.length);
      busyKb = await settledRss(base, 5000);
    } finally {
      await base.dispose();
    }
  }
  const server = await startParley({ dataDir, port, inspect: true });
  try {
    const t = target(server.baseUrl, makeAgent(64));
    const coldKb = await settledRss(server, 3000);
    await whoamiAll(t, users);
    const touchedKb = await settledRss(server, 5000);
    ctx.row({
      figure: `RSS per registered idle user (${users.length} users)`,
      value: (touchedKb - busyKb) / users.length,
      unit: 'KB',
      target: le(20),
      note: `${regNote}; baseline: a 1-user server after the same number of requests (${MB(busyKb).toFixed(0)} MB); after a restart, before any request: ${((coldKb - idleKb) / users.length).toFixed(1)} KB/user; ${warmNote}; between runs the baselines moved by up to ~25 MB (README, tenth round): ±${((25 * 1024) / users.length).toFixed(1)} KB/user here`,
    });

    // 3. Held /sync connections, spread over the registered users.
    const conns = Array.from({ length: HELD }, (_, i) => users[i % users.length]);
    const distinct = users.slice(0, Math.min(users.length, HELD));
    const sinceOf = new Map<string, string>();
    await mapLimit(distinct, 16, async (u) => sinceOf.set(u.userId, await syncOnce(t, u)));
    const beforeKb = await settledRss(server, 4000);
    const fleet = await SyncFleet.start({
      baseUrl: server.baseUrl,
      tokens: conns.map((u) => u.accessToken),
      sinces: conns.map((u) => sinceOf.get(u.userId)!),
      pollTimeoutMs: 180_000,
      marker: 'bench:memory:',
      processes: 1,
      batch: 100,
      batchGapMs: 50,
    });
    let heldKb: number;
    let heldNow: number;
    try {
      await fleet.waitHeld(0.99, 90_000);
      heldKb = await settledRss(server, 5000);
      const st = await fleet.status();
      heldNow = st.held;
      // Every connection stays open; a few may be between two polls (a presence change wakes them).
      if (st.inflight < 0.98 * HELD) throw new Error(`only ${st.inflight}/${HELD} syncs in flight while measuring`);
    } finally {
      await fleet.stop();
    }

    const cs = await startCeilingServer();
    let ceilingPerConn: number | undefined;
    try {
      const ctBefore = await settledRss(cs, 3000);
      const cf = await SyncFleet.start({ baseUrl: cs.baseUrl, tokens: conns.map((_, i) => `c${i}`), since: 's0', pollTimeoutMs: 180_000, marker: 'bench:memory:', processes: 1, batch: 100, batchGapMs: 50 });
      try {
        await cf.waitHeld(0.99, 90_000);
        ceilingPerConn = ((await settledRss(cs, 4000)) - ctBefore) / HELD;
      } finally {
        await cf.stop();
      }
    } finally {
      await cs.dispose();
    }
    ctx.row({
      figure: `RSS per held /sync (${HELD} held)`,
      value: (heldKb - beforeKb) / HELD,
      unit: 'KB',
      target: le(27),
      ceiling: ceilingPerConn,
      note: `${heldNow} held at the moment of measuring; ${distinct.length} distinct users${users.length < HELD ? `, ${(HELD / users.length).toFixed(1)} connections each on one access token (fewer users than connections)` : ''}; RSS ${MB(beforeKb).toFixed(0)} → ${MB(heldKb).toFixed(0)} MB`,
    });
  } finally {
    await server.dispose();
  }
});
