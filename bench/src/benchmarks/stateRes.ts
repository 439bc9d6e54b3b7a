// state-res: state resolution (federation's pure resolver, resolveStateYielding) over a
// synthetic DAG with forks and power-level/membership churn: ~1,000 events in the full
// conflicted set over a ~10,000-event auth chain. Figures: resolution time (median of 5
// after one warm-up) and the event-loop delay p99 while it runs, from
// perf_hooks.monitorEventLoopDelay (1 ms resolution) — what other requests on the same
// process would wait. No server involved; the DAG is in memory, as the resolver expects.
// Ceilings, same run: ceilings/stateResFloor (the walk and sort no resolver can skip) for
// the time; for the delay, the same monitor over an event loop that only yields for as long.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_ROOM_VERSION, roomVersion } from '@parley/federation/core/roomVersions';
import { resolveState, resolveStateYielding } from '@parley/federation/core/stateRes/resolveState';
import { authChain, authDifference } from '@parley/federation/core/stateRes/authChain';
import { conflictedSubgraph } from '@parley/federation/core/stateRes/conflictedSubgraph';
import { splitStateSets } from '@parley/federation/core/stateRes/split';
import { NEVER_YIELD, runToEnd } from '@parley/federation/core/stateRes/work';
import { le, runBenchmark } from '../lib/result.js';
import { median } from '../lib/stats.js';
import { log } from '../lib/util.js';
import { buildDag } from '../stateRes/dag.js';
import { stateResFloor } from '../ceilings/stateResFloor.js';

await runBenchmark('state-res', async (ctx) => {
  const rules = roomVersion(DEFAULT_ROOM_VERSION)!;
  const t0 = performance.now();
  const { fx, stateSets } = buildDag(rules, { seed: 11, trunkEvents: 11_000, branches: 4, branchEvents: 150, members: 1500, mods: 5, branchPowerShare: 0.1 });
  const getEvent = fx.getEvent;
  const { conflicted } = splitStateSets(stateSets);
  const full = new Set(conflicted);
  for (const id of runToEnd(authDifference(stateSets, getEvent, NEVER_YIELD))) full.add(id);
  if (rules.stateRes === 'v2.1') for (const id of runToEnd(conflictedSubgraph(conflicted, getEvent, NEVER_YIELD))) full.add(id);
  const chain = runToEnd(authChain(stateSets.flatMap((s) => [...s.values()]), getEvent, NEVER_YIELD));
  const shape = `room v${rules.id}, ${fx.events.size} events, ${stateSets.length} branches, auth chain ${chain.size}, conflicted state ${conflicted.size}, full conflicted set ${full.size}`;
  log(`DAG built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${shape}`);

  const input = { stateSets, getEvent, rules };
  const s0 = performance.now();
  const reference = resolveState(input);
  const syncMs = performance.now() - s0;

  const times: number[] = [];
  const cpuTimes: number[] = [];
  const delays: number[] = [];
  let maxDelay = 0;
  for (let run = 0; run < 6; run++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const a = performance.now();
    const cpu0 = process.cpuUsage();
    const resolved = await resolveStateYielding(input);
    const ms = performance.now() - a;
    const cpu = process.cpuUsage(cpu0);
    h.disable();
    if (resolved.size !== reference.size || [...resolved].some(([k, v]) => reference.get(k) !== v)) throw new Error('yielding and synchronous resolution disagree');
    if (run === 0) continue; // warm-up
    times.push(ms);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    delays.push(h.percentile(99) / 1e6);
    maxDelay = Math.max(maxDelay, h.max / 1e6);
  }
  // The ceilings: the floor's time (median of 5 after a warm-up; it must find the same full
  // conflicted set), and the delay p99 of an event loop doing nothing but yield, for as long.
  const floorTimes: number[] = [];
  for (let run = 0; run < 6; run++) {
    const a = performance.now();
    const sorted = stateResFloor(stateSets, getEvent);
    if (run > 0) floorTimes.push(performance.now() - a);
    if (sorted.length !== full.size || sorted.some((id) => !full.has(id))) throw new Error('the floor found another full conflicted set');
  }
  const idleDelays: number[] = [];
  for (let run = 0; run < 5; run++) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const end = performance.now() + times[run];
    while (performance.now() < end) await new Promise((r) => setImmediate(r));
    h.disable();
    idleDelays.push(h.percentile(99) / 1e6);
  }
  ctx.row({ figure: 'resolution time, resolveStateYielding (median of 5)', value: median(times), unit: 'ms', target: le(500), ceiling: median(floorTimes), note: `${shape}; CPU time ${median(cpuTimes).toFixed(0)} ms (wall time above also counts waiting for a busy CPU); synchronous resolveState (first run) ${syncMs.toFixed(0)} ms; ceiling: ceilings/stateResFloor (auth chains, auth difference, sort; no authorisation)` });
  ctx.row({ figure: 'event-loop delay p99 during resolution', value: median(delays), unit: 'ms', target: le(50), ceiling: median(idleDelays), note: `median over 5 runs of each run's p99; worst single delay ${maxDelay.toFixed(1)} ms; ceiling: the same monitor while the loop only yields (setImmediate) for as long` });
});
