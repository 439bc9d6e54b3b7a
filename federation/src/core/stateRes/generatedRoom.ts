// Test fixture: a large room whose history forks into several branches, each grown by
// random but authorised actions (from a seeded generator, so runs are repeatable).
// Each branch ends with two forged state entries that fail auth, as a lying server
// might claim: resolution must not let them through.
import type { RoomVersionRules } from '../roomVersions.js';
import type { JsonObject, StateKey } from '../types.js';
import { ALICE, RoomFixture, member } from './fixtures.js';

export interface GeneratedRoom {
  fx: RoomFixture;
  stateSets: Map<StateKey, string>[];
  forged: Set<string>;
}

export interface GenerateOptions {
  seed: number;
  branches: number;
  /** Attempted actions per branch (those the auth rules refuse are dropped). */
  steps: number;
  members: number;
  mods: number;
}

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateRoom(rules: RoomVersionRules, o: GenerateOptions): GeneratedRoom {
  const rand = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const fx = new RoomFixture(rules);
  const mods = Array.from({ length: o.mods }, (_, i) => `@mod${i}:m${i % 3}.example`);
  const members = Array.from({ length: o.members }, (_, i) => `@user${i}:u${i % 5}.example`);

  // Moderators keep level 50 throughout; Alice only ever changes the topic level.
  const powerLevels = (topicLevel: number): JsonObject => {
    const users: JsonObject = Object.fromEntries(mods.map((m) => [m, 50]));
    if (!rules.privilegedCreators) users[ALICE] = 100;
    return { users, events: { 'm.room.topic': topicLevel } };
  };
  let base = fx.createRoom(ALICE, { users: Object.fromEntries(mods.map((m) => [m, 50])) });
  for (const m of mods) base = fx.send(base, member(m, m, 'join'));
  for (const u of members.slice(0, o.members / 2)) base = fx.send(base, member(u, u, 'join'));

  type Action = (s: Map<StateKey, string>) => Map<StateKey, string> | undefined;
  const actions: Action[] = [
    (s) => {
      const u = pick(members);
      return fx.trySend(s, member(u, u, 'join'));
    },
    (s) => {
      const u = pick(members);
      return fx.trySend(s, member(u, u, 'leave'));
    },
    (s) => fx.trySend(s, member(pick(mods), pick(members), 'ban')),
    (s) => fx.trySend(s, member(pick(mods), pick(members), 'leave')), // kick or unban
    (s) => fx.trySend(s, { type: 'm.room.topic', stateKey: '', sender: pick([...members, ...mods]), content: { topic: `t${rand()}` } }),
    (s) => fx.trySend(s, { type: 'm.room.power_levels', stateKey: '', sender: ALICE, content: powerLevels(pick([0, 50])) }),
  ];

  const heads = Array.from({ length: o.branches }, () => new Map(base));
  for (let i = 0; i < o.steps; i++) {
    for (let b = 0; b < heads.length; b++) heads[b] = pick(actions)(heads[b]) ?? heads[b];
  }

  const forged = new Set<string>();
  for (let b = 0; b < heads.length; b++) {
    const [u1, u2] = [members[b % members.length], members[(b + 1) % members.length]];
    heads[b] = fx.send(heads[b], { id: `$forgedTopic${b}`, type: 'm.room.topic', stateKey: '', sender: '@eve:evil.example', content: { topic: 'forged' } });
    heads[b] = fx.send(heads[b], member(u1, u2, 'ban', { id: `$forgedBan${b}` }));
    forged.add(`$forgedTopic${b}`).add(`$forgedBan${b}`);
  }
  return { fx, stateSets: heads, forged };
}
