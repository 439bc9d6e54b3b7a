// Building a StateLookup from a list of events (e.g. an event's auth events).
import { stateKeyOf, type Pdu, type RoomEvent } from '../types.js';
import type { StateLookup } from './types.js';

/**
 * A lookup over the state events among `events`; later entries win. For checking an event
 * against its auth events in v12, include the room's create event, which auth_events omits.
 */
export function stateFromEvents(events: Iterable<Pdu | RoomEvent>): StateLookup {
  const map = new Map<string, Pdu>();
  for (const e of events) {
    const pdu = isRoomEvent(e) ? e.pdu : e;
    if (typeof pdu.state_key === 'string') map.set(stateKeyOf(pdu.type, pdu.state_key), pdu);
  }
  return (type, stateKey) => map.get(stateKeyOf(type, stateKey));
}

function isRoomEvent(e: Pdu | RoomEvent): e is RoomEvent {
  return typeof e.eventId === 'string' && typeof e.pdu === 'object' && e.pdu !== null;
}
