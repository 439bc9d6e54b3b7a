// A synthetic room DAG for the state-res benchmark: a long trunk of membership and
// power-level churn (which becomes the auth chain), then a fork into branches that each
// add more churn — joins, leaves, kicks, bans, unbans and power-level changes — so that
// the branches' events form the conflicted set. Deterministic (seeded PRNG).
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type StateKey } from '@parley/federation/core/types';
import { ALICE, RoomFixture, member } from '@parley/federation/core/stateRes/fixtures';
import { prng } from '@parley/federation/core/stateRes/generatedRoom';

export interface DagOptions {
  seed: number;
  /** Events before the fork (approximately). */
  trunkEvents: number;
  branches: number;
  /** Events per branch (approximately). */
  branchEvents: number;
  members: number;
  mods: number;
  /** Share of branch actions that change power levels. */
  branchPowerShare: number;
}

export interface Dag {
  fx: RoomFixture;
  stateSets: Map<StateKey, string>[];
}

export function buildDag(rules: RoomVersionRules, o: DagOptions): Dag {
  const rand = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const fx = new RoomFixture(rules);
  const mods = Array.from({ length: o.mods }, (_, i) => `@mod${i}:m${i % 3}.example`);
  const members = Array.from({ length: o.members }, (_, i) => `@user${i}:u${i % 7}.example`);
  let plVersion = 0;
  const powerLevels = () => {
    plVersion++;
    const users: Record<string, number> = Object.fromEntries(mods.map((m) => [m, 50]));
    if (!rules.privilegedCreators) users[ALICE] = 100;
    // A rotating handful of members hold moderator-ish power, so PL changes matter to auth.
    for (let k = 0; k < 3; k++) users[members[(plVersion * 7 + k * 13) % members.length]] = 50;
    return { users, events: { 'm.room.topic': plVersion % 2 === 0 ? 0 : 50 }, kick: 50, ban: 50 };
  };
  let state = fx.createRoom(ALICE, { users: Object.fromEntries(mods.map((m) => [m, 50])) });
  for (const m of mods) state = fx.send(state, member(m, m, 'join'));

  const step = (s: Map<StateKey, string>, powerShare: number): Map<StateKey, string> => {
    const r = rand();
    if (r < powerShare) return fx.trySend(s, { type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: powerLevels() }) ?? s;
    const u = pick(members);
    const cur = s.get(stateKeyOf('m.room.member', u));
    const membership = cur === undefined ? 'leave' : (fx.event(cur).pdu.content.membership as string);
    const x = rand();
    let next: Map<StateKey, string> | undefined;
    if (membership === 'join') next = x < 0.6 ? fx.trySend(s, member(u, u, 'leave')) : x < 0.8 ? fx.trySend(s, member(pick(mods), u, 'leave')) : fx.trySend(s, member(pick(mods), u, 'ban'));
    else if (membership === 'ban') next = fx.trySend(s, member(pick(mods), u, 'leave'));
    else next = fx.trySend(s, member(u, u, 'join'));
    return next ?? s;
  };

  for (let i = 0; fx.events.size < o.trunkEvents && i < o.trunkEvents * 4; i++) state = step(state, 0.01);
  const stateSets: Map<StateKey, string>[] = [];
  for (let b = 0; b < o.branches; b++) {
    let s = new Map(state);
    const target = fx.events.size + o.branchEvents;
    for (let i = 0; fx.events.size < target && i < o.branchEvents * 4; i++) s = step(s, o.branchPowerShare);
    stateSets.push(s);
  }
  return { fx, stateSets };
}
