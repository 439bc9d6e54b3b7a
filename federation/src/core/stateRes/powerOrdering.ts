// Reverse topological power ordering: Kahn's algorithm over the auth DAG restricted
// to the selected events, always taking the "smallest" ready event.
// Spec: rooms/fragments/v2-state-res.md "Reverse topological power ordering".
import type { RoomVersionRules } from '../roomVersions.js';
import { type GetEvent, requireEvent } from './eventGraph.js';
import { MinHeap } from './heap.js';
import { senderPowerLevel } from './senderPower.js';
import type { Steps, WorkMeter } from './work.js';

export interface PowerSortKey {
  id: string;
  power: number;
  ts: number;
}

/** x < y: higher sender power, then earlier origin_server_ts, then smaller event ID. */
export function powerOrderLess(x: PowerSortKey, y: PowerSortKey): boolean {
  if (x.power !== y.power) return x.power > y.power;
  if (x.ts !== y.ts) return x.ts < y.ts;
  return x.id < y.id;
}

/** The selected events, earliest first, each after every selected event in its auth chain. */
export function* reverseTopologicalPowerOrder(
  selected: ReadonlySet<string>,
  getEvent: GetEvent,
  rules: RoomVersionRules,
  meter: WorkMeter,
): Steps<string[]> {
  const parents = yield* selectedParents(selected, getEvent, meter);
  const keys = new Map<string, PowerSortKey>();
  const waitingOn = new Map<string, number>();
  const children = new Map<string, string[]>();
  const ready = new MinHeap<PowerSortKey>(powerOrderLess);
  for (const id of selected) {
    const ev = requireEvent(getEvent, id);
    // Computed once per event: the comparator runs O(n log n) times.
    const key = { id, power: senderPowerLevel(ev, getEvent, rules), ts: ev.pdu.origin_server_ts };
    keys.set(id, key);
    const ps = parents.get(id)!;
    waitingOn.set(id, ps.length);
    for (const p of ps) {
      let list = children.get(p);
      if (list === undefined) children.set(p, (list = []));
      list.push(id);
    }
    if (meter.tick()) yield;
  }
  for (const [id, n] of waitingOn) if (n === 0) ready.push(keys.get(id)!);
  const order: string[] = [];
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(next.id);
    for (const c of children.get(next.id) ?? []) {
      const left = waitingOn.get(c)! - 1;
      waitingOn.set(c, left);
      if (left === 0) ready.push(keys.get(c)!);
    }
    if (meter.tick()) yield;
  }
  if (order.length !== selected.size) throw new Error('auth events form a cycle; cannot order them');
  return order;
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * Each selected event's nearest selected ancestors: its selected auth events, plus —
 * through unselected auth events — the nearest selected events beyond them. This keeps
 * every ordering the full auth DAG implies even where a path leaves the selection and
 * comes back. Memoised per unselected event (iteratively: chains can be long), so linear.
 */
function* selectedParents(
  selected: ReadonlySet<string>,
  getEvent: GetEvent,
  meter: WorkMeter,
): Steps<Map<string, readonly string[]>> {
  const through = new Map<string, readonly string[]>();
  const nearest = (id: string): readonly string[] => {
    let single: readonly string[] | undefined;
    let merged: Set<string> | undefined;
    for (const a of requireEvent(getEvent, id).pdu.auth_events) {
      const found = selected.has(a) ? [a] : through.get(a)!;
      if (found.length === 0) continue;
      if (single === undefined) {
        single = found; // share the list when only one auth event contributes
        continue;
      }
      merged ??= new Set(single);
      for (const f of found) merged.add(f);
    }
    return merged !== undefined ? [...merged] : (single ?? NONE);
  };

  const opened = new Set<string>();
  const stack: string[] = [];
  const pushUnselectedAuth = (id: string): void => {
    for (const a of requireEvent(getEvent, id).pdu.auth_events) {
      if (selected.has(a) || through.has(a)) continue;
      if (opened.has(a)) throw new Error(`auth events form a cycle through ${a}`);
      stack.push(a);
    }
  };
  const out = new Map<string, readonly string[]>();
  for (const x of selected) {
    pushUnselectedAuth(x);
    while (stack.length > 0) {
      const id = stack[stack.length - 1];
      if (through.has(id)) {
        stack.pop();
      } else if (!opened.has(id)) {
        opened.add(id);
        pushUnselectedAuth(id);
      } else {
        stack.pop();
        through.set(id, nearest(id));
        if (meter.tick()) yield;
      }
    }
    out.set(x, nearest(x));
  }
  return out;
}
