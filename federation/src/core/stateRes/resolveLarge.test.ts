import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkEventAuth } from '../auth/checkAuth.js';
import { userPowerLevel } from '../auth/powerLevels.js';
import type { StateLookup } from '../auth/types.js';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import { type StateKey, splitStateKey, stateKeyOf } from '../types.js';
import type { GetEvent } from './eventGraph.js';
import { generateRoom } from './generatedRoom.js';
import { iterativeAuthChecks } from './iterativeAuth.js';
import { isPowerEvent } from './powerEvents.js';
import { resolveState } from './resolveState.js';
import { splitStateSets } from './split.js';
import { NEVER_YIELD, runToEnd } from './work.js';

const OPTIONS = { seed: 7, branches: 4, steps: 1000, members: 60, mods: 4 };

/** Auth chain of one event, by plain search (no sharing, no memo). */
function chainOf(id: string, getEvent: GetEvent): Set<string> {
  const out = new Set<string>();
  const todo = [...getEvent(id)!.pdu.auth_events];
  while (todo.length > 0) {
    const a = todo.pop()!;
    if (out.has(a)) continue;
    out.add(a);
    todo.push(...getEvent(a)!.pdu.auth_events);
  }
  return out;
}

type Key = readonly [number, number, string];
const lexLess = (a: Key, b: Key): boolean => (a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2]);

/**
 * The algorithm transcribed as literally as possible, with per-event auth chains and
 * quadratic scans, to cross-check the optimised one.
 */
function referenceResolve(stateSets: Map<StateKey, string>[], getEvent: GetEvent, rules: RoomVersionRules): Map<StateKey, string> {
  const { unconflicted, conflicted } = splitStateSets(stateSets);
  const chains = new Map<string, Set<string>>();
  const chain = (id: string) => chains.get(id) ?? chains.set(id, chainOf(id, getEvent)).get(id)!;
  const full = stateSets.map((s) => new Set([...s.values()].flatMap((id) => [id, ...chain(id)])));
  const union = new Set(full.flatMap((c) => [...c]));
  const fcs = new Set([...conflicted, ...[...union].filter((id) => !full.every((c) => c.has(id)))]);
  if (rules.stateRes === 'v2.1') {
    for (const id of union) {
      const fromConflicted = [...conflicted].some((c) => chain(c).has(id));
      const toConflicted = [...conflicted].some((c) => chain(id).has(c));
      if (fromConflicted && toConflicted) fcs.add(id);
    }
  }
  const power = [...fcs].filter((id) => isPowerEvent(getEvent(id)!.pdu));
  const x = new Set([...fcs].filter((id) => power.includes(id) || power.some((p) => chain(p).has(id))));

  const senderPower = (id: string): number => {
    const ev = getEvent(id)!;
    const auth = ev.pdu.auth_events.map((a) => getEvent(a)!.pdu);
    const lookup: StateLookup = (type, sk) => {
      if (type === 'm.room.create' && rules.roomIdIsCreateEventHash) return getEvent('$' + ev.roomId.slice(1))?.pdu;
      return auth.find((p) => p.type === type && p.state_key === sk);
    };
    return userPowerLevel(ev.pdu.sender, lookup, rules);
  };
  const keyOf = new Map([...x].map((id) => [id, [-senderPower(id), getEvent(id)!.pdu.origin_server_ts, id] as const]));
  // Kahn's algorithm over "is in the auth chain of", scanning for the smallest ready event.
  const unmet = new Map([...x].map((id) => [id, [...x].filter((o) => chain(id).has(o)).length]));
  const powerOrder: string[] = [];
  while (unmet.size > 0) {
    let best: string | undefined;
    for (const [id, n] of unmet) if (n === 0 && (best === undefined || lexLess(keyOf.get(id)!, keyOf.get(best)!))) best = id;
    powerOrder.push(best!);
    unmet.delete(best!);
    for (const [id, n] of unmet) if (chain(id).has(best!)) unmet.set(id, n - 1);
  }
  const ctx = { getEvent, rules };
  const start = rules.stateRes === 'v2.1' ? new Map<StateKey, string>() : unconflicted;
  const partial = runToEnd(iterativeAuthChecks(start, powerOrder, ctx, NEVER_YIELD));

  const plOf = (id: string) => getEvent(id)!.pdu.auth_events.find((a) => getEvent(a)!.pdu.type === 'm.room.power_levels');
  const mainline: string[] = [];
  for (let p = partial.get(stateKeyOf('m.room.power_levels', '')); p !== undefined; p = plOf(p)) mainline.push(p);
  const position = (id: string): number => {
    for (let p = plOf(id); p !== undefined; p = plOf(p)) if (mainline.includes(p)) return mainline.indexOf(p);
    return Infinity;
  };
  const mainKey = (id: string) => [-position(id), getEvent(id)!.pdu.origin_server_ts, id] as const;
  const rest = [...fcs].filter((id) => !x.has(id)).sort((a, b) => (lexLess(mainKey(a), mainKey(b)) ? -1 : 1));
  const resolved = runToEnd(iterativeAuthChecks(partial, rest, ctx, NEVER_YIELD));
  for (const [k, v] of unconflicted) resolved.set(k, v);
  return resolved;
}

for (const id of ['11', '12']) {
  const rules = roomVersion(id)!;
  const { fx, stateSets, forged } = generateRoom(rules, OPTIONS);
  const resolved = resolveState({ stateSets, getEvent: fx.getEvent, rules });
  const { unconflicted } = splitStateSets(stateSets);

  test(`it should resolve a forked room of a few thousand events to a well-formed state map (room ${id})`, () => {
    assert.ok(fx.events.size > 2000, `only ${fx.events.size} events generated`);
    assert.ok(stateSets.some((s) => s.size !== resolved.size || [...s].some(([k, v]) => resolved.get(k) !== v)), 'no conflict to resolve');
    for (const [key, eventId] of resolved) {
      const ev = fx.getEvent(eventId);
      assert.ok(ev, `unknown event ${eventId}`);
      const [type, stateKey] = splitStateKey(key);
      assert.equal(ev.pdu.type, type);
      assert.equal(ev.pdu.state_key, stateKey);
      assert.equal(ev.roomId, fx.roomId);
    }
    for (const [key, eventId] of unconflicted) assert.equal(resolved.get(key), eventId);
    const known = new Set(stateSets.flatMap((s) => [...s.values()].flatMap((e) => [e, ...chainOf(e, fx.getEvent)])));
    for (const eventId of resolved.values()) assert.ok(known.has(eventId), `${eventId} is in no state set or auth chain`);
  });

  test(`it should let no event that fails auth into the resolved state (room ${id})`, () => {
    for (const f of forged) assert.ok(![...resolved.values()].includes(f), `forged ${f} survived`);
    for (const [key, eventId] of resolved) {
      if (unconflicted.has(key)) continue;
      const ev = fx.event(eventId);
      const own = [...ev.pdu.auth_events, fx.createId].map((a) => fx.event(a).pdu);
      const lookup: StateLookup = (type, sk) => own.find((p) => p.type === type && p.state_key === sk);
      const verdict = checkEventAuth(ev, lookup, rules, { createEventId: fx.createId });
      assert.ok(verdict.allowed, `${eventId} (${ev.pdu.type}) fails auth: ${verdict.allowed ? '' : verdict.reason}`);
    }
  });

  test(`it should give the same answer whatever the order of the state sets (room ${id})`, () => {
    assert.deepEqual(resolveState({ stateSets: [...stateSets].reverse(), getEvent: fx.getEvent, rules }), resolved);
  });

  test(`it should agree with a literal transcription of the algorithm (room ${id})`, () => {
    assert.deepEqual(referenceResolve(stateSets, fx.getEvent, rules), resolved);
  });
}
