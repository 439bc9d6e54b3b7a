// Mainline ordering: sort events by how far back along the power levels mainline
// their own power levels ancestry joins it, then by timestamp and event ID.
// Spec: rooms/fragments/v2-state-res.md "Mainline ordering".
import { type GetEvent, requireEvent } from './eventGraph.js';
import type { Steps, WorkMeter } from './work.js';

/** The m.room.power_levels event among `id`'s auth events, if any. */
function citedPowerLevels(id: string, getEvent: GetEvent): string | undefined {
  for (const a of requireEvent(getEvent, id).pdu.auth_events) {
    const { pdu } = requireEvent(getEvent, a);
    if (pdu.type === 'm.room.power_levels' && pdu.state_key === '') return a;
  }
  return undefined;
}

/** Mainline of P₀: P₀, the power levels it cites, the one that cites, … (index = position). */
export function mainlineOf(powerLevelsId: string | undefined, getEvent: GetEvent): Map<string, number> {
  const index = new Map<string, number>();
  for (let p = powerLevelsId; p !== undefined && !index.has(p); p = citedPowerLevels(p, getEvent)) index.set(p, index.size);
  return index;
}

/**
 * A function giving each event's mainline position: the index of the first power
 * levels event in e₁, e₂, … that lies on the mainline, or Infinity if none does.
 * Positions are memoised per power levels event, since events share that ancestry.
 */
export function mainlinePositions(mainline: ReadonlyMap<string, number>, getEvent: GetEvent): (id: string) => number {
  const memo = new Map<string, number>();
  return (id) => {
    const path = new Set<string>();
    let pos = Infinity;
    for (let p = citedPowerLevels(id, getEvent); p !== undefined; p = citedPowerLevels(p, getEvent)) {
      const known = mainline.get(p) ?? memo.get(p);
      if (known !== undefined) {
        pos = known;
        break;
      }
      if (path.has(p)) break; // a cycle never reaches the mainline
      path.add(p);
    }
    for (const p of path) memo.set(p, pos);
    return pos;
  };
}

interface MainlineKey {
  id: string;
  pos: number;
  ts: number;
}

/** x < y: deeper mainline position first, then earlier origin_server_ts, then smaller ID. */
export function mainlineLess(x: MainlineKey, y: MainlineKey): boolean {
  if (x.pos !== y.pos) return x.pos > y.pos;
  if (x.ts !== y.ts) return x.ts < y.ts;
  return x.id < y.id;
}

/** `ids` in mainline order based on the power levels event `powerLevelsId` (none: empty mainline). */
export function* mainlineOrder(
  ids: Iterable<string>,
  powerLevelsId: string | undefined,
  getEvent: GetEvent,
  meter: WorkMeter,
): Steps<string[]> {
  const position = mainlinePositions(mainlineOf(powerLevelsId, getEvent), getEvent);
  const keys: MainlineKey[] = [];
  for (const id of ids) {
    keys.push({ id, pos: position(id), ts: requireEvent(getEvent, id).pdu.origin_server_ts });
    if (meter.tick()) yield;
  }
  keys.sort((x, y) => (mainlineLess(x, y) ? -1 : mainlineLess(y, x) ? 1 : 0));
  return keys.map((k) => k.id);
}
