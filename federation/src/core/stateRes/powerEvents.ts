// Power events, and step 1's selection of them with their conflicted ancestry.
// Spec: rooms/fragments/v2-state-res.md "Power events" and "Algorithm" step 1.
import type { Pdu } from '../types.js';
import { type GetEvent, requireEvent } from './eventGraph.js';
import type { Steps, WorkMeter } from './work.js';

/**
 * Events that might take an ability away from someone. Like Synapse and Ruma we also
 * count m.room.create (so a forked create is ordered by power, not by mainline), and
 * only the `''` state key of the room-wide types, the only one the auth rules read.
 */
export function isPowerEvent(pdu: Pdu): boolean {
  if (pdu.state_key === undefined) return false;
  if (pdu.type === 'm.room.power_levels' || pdu.type === 'm.room.join_rules' || pdu.type === 'm.room.create') {
    return pdu.state_key === '';
  }
  if (pdu.type !== 'm.room.member') return false;
  const m = pdu.content.membership;
  return (m === 'leave' || m === 'ban') && pdu.sender !== pdu.state_key;
}

/**
 * The power events of the full conflicted set together with every event of their
 * auth chains that is also in the full conflicted set. One shared walk over the
 * ancestry of all of them rather than one auth chain per power event.
 */
export function* powerEventsWithAncestry(
  fullConflicted: ReadonlySet<string>,
  getEvent: GetEvent,
  meter: WorkMeter,
): Steps<Set<string>> {
  const selected = new Set<string>();
  const seen = new Set<string>();
  const stack: string[] = [];
  for (const id of fullConflicted) {
    if (!isPowerEvent(requireEvent(getEvent, id).pdu)) continue;
    selected.add(id);
    stack.push(id);
  }
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const a of requireEvent(getEvent, id).pdu.auth_events) {
      if (seen.has(a)) continue;
      seen.add(a);
      if (fullConflicted.has(a)) selected.add(a);
      stack.push(a);
    }
    if (meter.tick()) yield;
  }
  return selected;
}
