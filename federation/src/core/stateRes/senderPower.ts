// The sender's power level as the event's own auth events describe it, the first key
// of the reverse topological power ordering.
// Spec: rooms/fragments/v2-state-res.md "Reverse topological power ordering" rule 1.
import { userPowerLevel } from '../auth/powerLevels.js';
import type { StateLookup } from '../auth/types.js';
import type { RoomVersionRules } from '../roomVersions.js';
import { type RoomEvent, stateKeyOf } from '../types.js';
import { authEventsByKey } from './authEvents.js';
import { type GetEvent, requireEvent } from './eventGraph.js';

/** Infinity for v12 creators; otherwise what the cited power levels (or their absence) give. */
export function senderPowerLevel(event: RoomEvent, getEvent: GetEvent, rules: RoomVersionRules): number {
  const byKey = authEventsByKey(event, getEvent, rules);
  const lookup: StateLookup = (type, stateKey) => {
    const id = byKey.get(stateKeyOf(type, stateKey));
    return id === undefined ? undefined : requireEvent(getEvent, id).pdu;
  };
  return userPowerLevel(event.pdu.sender, lookup, rules);
}
