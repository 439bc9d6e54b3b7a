// sync-initial: one account in 100 rooms with 20 messages each. Initial /sync (no filter,
// no since): first (cold) and median of 10. Incremental /sync from next_batch with nothing
// new and timeout=0: median of 300. Both timed on the client over loopback (no server-side
// timing header exists), so they include ~0.1 ms of HTTP client cost. Ceilings, same run:
// for the initial sync, the ceiling server (ceilings/longPollServer) given the same 2,000
// messages in 100 rooms and asked for all of them (its timeline is in memory: the cost of
// answering, not of reading); for the incremental, GET /_matrix/client/versions on the
// same server — the cost of any request.
import { makeAgent, request, target, expectStatus, type HttpTarget } from '../lib/http.js';
import { startCeilingServer } from '../lib/ceiling.js';
import { createRoom, registerMany, sendPath, syncPath } from '../lib/matrix.js';
import { startParley } from '../lib/parley.js';
import { le, runBenchmark } from '../lib/result.js';
import { summarize } from '../lib/stats.js';
import { log, mapLimit } from '../lib/util.js';

const ROOMS = 100;
const EVENTS = 20;

/** EVENTS messages into each room, 16 rooms at a time. */
async function fill(t: HttpTarget, token: string, rooms: readonly string[]): Promise<void> {
  await mapLimit(rooms, 16, async (roomId) => {
    for (let k = 0; k < EVENTS; k++) {
      const res = await request(t, 'PUT', sendPath(roomId), { token, body: { msgtype: 'm.text', body: `message ${k} in ${roomId}` } });
      expectStatus(res, 200, 'send');
    }
  });
}

/** A first (cold) initial /sync, then ten more; each must carry every room. */
async function initialSyncs(t: HttpTarget, token: string): Promise<{ cold: { ms: number; next: string; bytes: number }; warm: number[] }> {
  const initial = async () => {
    const res = await request(t, 'GET', syncPath(), { token, timeoutMs: 60_000 });
    expectStatus(res, 200, 'initial /sync');
    const j = res.json();
    const n = Object.keys(j.rooms?.join ?? {}).length;
    if (n !== ROOMS) throw new Error(`initial /sync returned ${n} joined rooms, expected ${ROOMS}`);
    return { ms: res.ms, next: j.next_batch as string, bytes: res.body.length };
  };
  const cold = await initial();
  const warm: number[] = [];
  for (let i = 0; i < 10; i++) warm.push((await initial()).ms);
  return { cold, warm };
}

await runBenchmark('sync-initial', async (ctx) => {
  const server = await startParley();
  try {
    const t = target(server.baseUrl, makeAgent(64));
    const { users } = await registerMany(t, 'si', 1, 1);
    const u = users[0];
    const t0 = performance.now();
    // One at a time: two createRoom calls by one user in the same millisecond collide (M_ROOM_IN_USE).
    const rooms = await mapLimit(Array.from({ length: ROOMS }, (_, i) => i), 1, (i) => createRoom(t, u, { preset: 'private_chat', name: `room ${i}` }));
    await fill(t, u.accessToken, rooms);
    log(`set up ${ROOMS} rooms × ${EVENTS} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const { cold, warm } = await initialSyncs(t, u.accessToken);
    const w = summarize(warm);

    const incr: number[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await request(t, 'GET', syncPath({ since: cold.next, timeoutMs: 0 }), { token: u.accessToken });
      expectStatus(res, 200, 'incremental /sync');
      incr.push(res.ms);
    }
    const versions: number[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await request(t, 'GET', '/_matrix/client/versions');
      expectStatus(res, 200, '/versions');
      versions.push(res.ms);
    }
    const inc = summarize(incr.slice(50));
    const ver = summarize(versions.slice(50));

    const cs = await startCeilingServer();
    let ceiling: { cold: { bytes: number }; warm: number[] };
    try {
      const ct = target(cs.baseUrl, makeAgent(64));
      await fill(ct, 'ceiling', Array.from({ length: ROOMS }, (_, i) => `!room${i}:ceiling`));
      ceiling = await initialSyncs(ct, 'ceiling');
    } finally {
      await cs.dispose();
    }

    ctx.row({ figure: `initial /sync, ${ROOMS} rooms × ${EVENTS} events (median of 10)`, value: w.p50, unit: 'ms', target: le(300), ceiling: summarize(ceiling.warm).p50, note: `first (cold) ${cold.ms.toFixed(1)} ms; p90 ${w.p90.toFixed(1)} ms; response ${(cold.bytes / 1024).toFixed(0)} KiB; ceiling: the ceiling server's whole timeline of the same messages, ${(ceiling.cold.bytes / 1024).toFixed(0)} KiB` });
    ctx.row({ figure: 'empty incremental /sync, timeout=0 (median of 250, client-side on loopback)', value: inc.p50, unit: 'ms', target: le(2), ceiling: ver.p50, note: `p90 ${inc.p90.toFixed(2)} ms; ceiling = GET /versions on the same server` });
  } finally {
    await server.dispose();
  }
});
