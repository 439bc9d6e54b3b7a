// Stored events in the format clients get. Spec: client-server-api/_index.md
// "Room event format" (definitions/client_event.yaml), "Redactions" (redacted_because),
// "Transaction identifiers" (transaction_id only for the sending device).
import type { JsonObject } from '@parley/federation/core/types';
import type { StoredEvent } from '../rooms/types.js';

export interface ClientEvent {
  [key: string]: unknown;
  event_id: string;
  room_id?: string;
  sender: string;
  type: string;
  content: JsonObject;
  origin_server_ts: number;
  state_key?: string;
  /** Copied to the top level for redaction events in every room version, as older clients expect. */
  redacts?: string;
  unsigned: ClientUnsigned;
}

export interface ClientUnsigned {
  [key: string]: unknown;
  age: number;
  transaction_id?: string;
  redacted_because?: ClientEvent;
  prev_content?: JsonObject;
  replaces_state?: string;
  prev_sender?: string;
}

export interface Viewer {
  userId: string;
  deviceId: string;
}

export function toClientEvent(ev: StoredEvent, viewer: Viewer, now: number, opts: { omitRoomId?: boolean } = {}): ClientEvent {
  const { pdu } = ev;
  const out: ClientEvent = {
    event_id: ev.eventId,
    sender: pdu.sender,
    type: pdu.type,
    content: pdu.content,
    origin_server_ts: pdu.origin_server_ts,
    unsigned: { age: Math.max(0, now - pdu.origin_server_ts) },
  };
  if (!opts.omitRoomId) out.room_id = ev.roomId;
  if (typeof pdu.state_key === 'string') out.state_key = pdu.state_key;
  if (pdu.type === 'm.room.redaction') {
    const redacts = typeof pdu.redacts === 'string' ? pdu.redacts : pdu.content.redacts;
    if (typeof redacts === 'string') out.redacts = redacts;
  }
  if (ev.txn && ev.txn.deviceId === viewer.deviceId && pdu.sender === viewer.userId) {
    out.unsigned.transaction_id = ev.txn.txnId;
  }
  if (ev.replaces) {
    out.unsigned.prev_content = ev.replaces.content;
    out.unsigned.replaces_state = ev.replaces.eventId;
    out.unsigned.prev_sender = ev.replaces.sender;
  }
  if (ev.redactedBecause) {
    const r = ev.redactedBecause;
    out.unsigned.redacted_because = toClientEvent({ eventId: r.eventId, roomId: ev.roomId, pdu: r.pdu, stream: 0 }, viewer, now, opts);
  }
  return out;
}
