// RoomEventsPort over the room store: events, state at an event, auth chains, backfill
// and get_missing_events for servers in the room. Rejected events are never served;
// soft-failed ones only when reached through the graph (server-server-api.md "Soft failure").
// Spec: server-server-api.md "Retrieving events", "Backfilling and retrieving missing events".
import { fedNotFound } from '@parley/federation/api/errors';
import type { RoomEventsPort } from '@parley/federation/ports';
import { toWire } from '@parley/federation/core/eventRefs';
import type { Pdu } from '@parley/federation/core/types';
import type { RoomReader, StoredEvent } from '../../rooms/types.js';
import { assertServerInRoom, type AccessReader } from './access.js';

export type EventsReader = AccessReader & Pick<RoomReader, 'getEvent' | 'getEvents' | 'stateBefore'>;

export class RoomEventsAdapter implements RoomEventsPort {
  constructor(private readonly reader: EventsReader) {}

  async event(origin: string, eventId: string): Promise<Pdu> {
    const ev = await this.reader.getEvent(eventId);
    if (!ev || ev.rejected !== undefined) throw fedNotFound('Unknown event');
    await assertServerInRoom(this.reader, origin, ev.roomId);
    return federationPdu(ev);
  }

  async stateIds(origin: string, roomId: string, eventId: string): Promise<{ pduIds: string[]; authChainIds: string[] }> {
    const state = await this.stateAt(origin, roomId, eventId);
    const chain = await this.authChain([...state.values()].flatMap((e) => e.pdu.auth_events));
    return { pduIds: [...state.keys()], authChainIds: [...chain.keys()] };
  }

  async state(origin: string, roomId: string, eventId: string): Promise<{ pdus: Pdu[]; authChain: Pdu[] }> {
    const state = await this.stateAt(origin, roomId, eventId);
    const chain = await this.authChain([...state.values()].flatMap((e) => e.pdu.auth_events));
    return { pdus: [...state.values()].map(federationPdu), authChain: [...chain.values()].map(federationPdu) };
  }

  async eventAuth(origin: string, roomId: string, eventId: string): Promise<Pdu[]> {
    await assertServerInRoom(this.reader, origin, roomId);
    const ev = await this.reader.getEvent(eventId);
    if (!ev || ev.roomId !== roomId) throw fedNotFound('Unknown event');
    return [...(await this.authChain(ev.pdu.auth_events)).values()].map(federationPdu);
  }

  async backfill(origin: string, roomId: string, from: string[], limit: number): Promise<Pdu[]> {
    await assertServerInRoom(this.reader, origin, roomId);
    // Breadth-first along prev_events from the given events (themselves included), deepest first.
    const out: StoredEvent[] = [];
    const seen = new Set<string>();
    let frontier = from;
    while (frontier.length > 0 && out.length < limit) {
      const events = await this.reader.getEvents(frontier.filter((id) => !seen.has(id)));
      frontier.forEach((id) => seen.add(id));
      const next: string[] = [];
      for (const e of events.filter(inRoom(roomId)).sort((a, b) => b.pdu.depth - a.pdu.depth)) {
        if (out.length >= limit) break;
        out.push(e);
        next.push(...e.pdu.prev_events);
      }
      frontier = next;
    }
    return out.map(federationPdu);
  }

  async missingEvents(origin: string, roomId: string, req: { earliest: string[]; latest: string[]; limit: number; minDepth: number }): Promise<Pdu[]> {
    await assertServerInRoom(this.reader, origin, roomId);
    const stop = new Set([...req.earliest, ...req.latest]);
    const out: StoredEvent[] = [];
    const seen = new Set<string>();
    const latest = (await this.reader.getEvents(req.latest)).filter(inRoom(roomId));
    let frontier = latest.flatMap((e) => e.pdu.prev_events);
    while (frontier.length > 0 && out.length < req.limit) {
      // Once each, though several events of a level may share a prev event.
      const ids = [...new Set(frontier)].filter((id) => !seen.has(id) && !stop.has(id));
      ids.forEach((id) => seen.add(id));
      const events = (await this.reader.getEvents(ids)).filter(inRoom(roomId)).filter((e) => e.pdu.depth >= req.minDepth);
      const next: string[] = [];
      for (const e of events) {
        if (out.length >= req.limit) break;
        out.push(e);
        next.push(...e.pdu.prev_events);
      }
      frontier = next;
    }
    return out.sort((a, b) => a.pdu.depth - b.pdu.depth).map(federationPdu);
  }

  /** The state before `eventId` (Synapse's answer to /state and /state_ids), as events. */
  private async stateAt(origin: string, roomId: string, eventId: string): Promise<Map<string, StoredEvent>> {
    await assertServerInRoom(this.reader, origin, roomId);
    const ev = await this.reader.getEvent(eventId);
    if (!ev || ev.roomId !== roomId || ev.outlier || ev.rejected !== undefined) throw fedNotFound('Unknown event');
    const state = (await this.reader.stateBefore(eventId)) ?? new Map();
    const events = await this.reader.getEvents([...state.values()]);
    return new Map(events.filter((e): e is StoredEvent => e !== undefined).map((e) => [e.eventId, e]));
  }

  /** The given events and everything they are authorised by, recursively. */
  private async authChain(start: string[]): Promise<Map<string, StoredEvent>> {
    const out = new Map<string, StoredEvent>();
    let frontier = [...new Set(start)];
    while (frontier.length > 0) {
      const events = await this.reader.getEvents(frontier);
      const next = new Set<string>();
      for (const e of events) {
        if (!e || out.has(e.eventId)) continue;
        out.set(e.eventId, e);
        for (const a of e.pdu.auth_events) if (!out.has(a)) next.add(a);
      }
      frontier = [...next];
    }
    return out;
  }
}

const inRoom = (roomId: string) => (e: StoredEvent | undefined): e is StoredEvent => e !== undefined && e.roomId === roomId && e.rejected === undefined;

/**
 * A stored event as it goes over federation: without `unsigned`, which is ours alone, and in
 * v1/v2 with its reference pairs rebuilt (exactly what was signed).
 */
export function federationPdu(ev: Pick<StoredEvent, 'pdu' | 'refHashes'>): Pdu {
  const { unsigned: _u, ...pdu } = ev.pdu;
  return toWire(pdu as Pdu, ev.refHashes);
}
