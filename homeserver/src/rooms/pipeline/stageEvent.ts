// Steps 3–7 for one event: check, authorise, compute state, and stage every write
// (event, ID mapping, timeline, global stream, state group, current state,
// membership, transaction, redaction, room tip) into the batch. Nothing is
// written until the batch commits; the returned head is the room after the event.
import { refHashesOf, toWire } from '@parley/federation/core/eventRefs';
import { redact } from '@parley/federation/core/redaction';
import type { RoomEvent } from '@parley/federation/core/types';
import type { Batch } from '../../storage/batch.js';
import type { EventRecord } from '../../storage/eventsRepo.js';
import type { RoomStorage } from '../../storage/roomStorage.js';
import type { TxnScope } from '../../storage/txnRepo.js';
import type { Membership } from '../types.js';
import { stateLookupFor, type RoomHead } from '../roomHead.js';
import { applyRedaction } from './applyRedaction.js';
import { authSelection } from './buildEvent.js';
import { authorize } from './authorize.js';
import { checkFormat } from './checkFormat.js';
import { indexNewEvent } from './indexRelations.js';
import { nextState } from './nextState.js';

export interface Staged {
  head: RoomHead;
  record: EventRecord;
  /** The target, pruned, when this event is a redaction that applied. */
  redacted?: EventRecord;
}

/**
 * `fresh`: the event was built and signed in this turn of the room's queue, so its ID is new
 * to everyone — no ID mapping, early redaction or child event can name it, and none is read
 * (two reads fewer on every send, each a trip through the thread pool while the room waits,
 * and the relations probe of the syncs that serve it first).
 */
export async function stageEvent(
  storage: RoomStorage,
  batch: Batch,
  head: RoomHead,
  event: RoomEvent,
  stream: number,
  txn?: TxnScope,
  fresh = false,
): Promise<Staged> {
  const { rules } = head;
  const { pdu, eventId } = event;
  // The size and format limits apply to the event as it goes over federation.
  checkFormat(toWire(pdu, event.refHashes), rules);

  const lookup = await stateLookupFor(storage, head, [['m.room.create', ''], ['m.room.power_levels', ''], ...authSelection(pdu, rules)]);
  authorize(event, lookup, rules, pdu.type === 'm.room.create' ? undefined : head.record.createEventId);

  const shortEvent = fresh ? storage.ids.events.allocNew(eventId, batch) : await storage.ids.events.alloc(eventId, batch);
  const st = await nextState(storage, batch, head, pdu, shortEvent);
  const record: EventRecord = {
    eventId,
    roomId: event.roomId,
    pdu,
    ...refHashesOf(event),
    stream,
    shortEvent,
    shortRoom: head.shortRoom,
    groupBefore: st.groupBefore,
    groupAfter: st.groupAfter,
    ...(st.replaces ? { replaces: st.replaces } : {}),
    ...(txn ? { txn: { deviceId: txn.deviceId, txnId: txn.txnId } } : {}),
  };
  // A redaction that arrived before its target (possible over federation) applies now.
  const earlier = fresh ? undefined : await storage.events.redactedBy(eventId);
  const earlierEvent = earlier === undefined ? undefined : await storage.events.byId(earlier);
  if (earlierEvent && earlierEvent.roomId === event.roomId) {
    record.pdu = redact(pdu, rules);
    record.redactedBy = earlierEvent.eventId;
    record.redactedBecause = { eventId: earlierEvent.eventId, pdu: earlierEvent.pdu };
  }

  const redacted = pdu.type === 'm.room.redaction' ? await applyRedaction(storage, batch, event, lookup, rules) : undefined;

  storage.events.put(batch, record);
  storage.timeline.append(batch, head.shortRoom, stream, shortEvent);
  indexNewEvent(storage, batch, record);
  if (fresh) storage.relations.bornChildless(batch, eventId);
  if (pdu.type === 'm.room.member' && typeof pdu.state_key === 'string') {
    storage.members.put(batch, head.shortRoom, pdu.state_key, {
      membership: pdu.content.membership as Membership,
      eventId,
      stream,
    });
  }
  if (txn) storage.txns.put(batch, txn, eventId);

  const prevIds = new Set(pdu.prev_events);
  const roomRecord = {
    ...head.record,
    stateGroup: st.groupAfter,
    extremities: [...head.record.extremities.filter((x) => !prevIds.has(x.eventId)), { eventId, depth: pdu.depth }],
    lastStream: stream,
  };
  storage.rooms.put(batch, head.shortRoom, roomRecord);
  const staged = new Map(head.staged ?? []).set(shortEvent, record);
  return { head: { ...head, record: roomRecord, state: st.stateAfter, staged }, record, ...(redacted ? { redacted } : {}) };
}
