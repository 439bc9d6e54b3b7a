// Step 1: place a draft in the room's graph. prev_events are the forward
// extremities (at most MAX_PREV, the deepest first, as Synapse does), depth is one
// more than the deepest of them, and auth_events are chosen from the current state
// as the federation rules say.
// Spec: server-server-api.md "Auth events selection"; rooms/v12.md "Event format".
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import { authEventTypesFor } from '@parley/federation/core/auth/index';
import type { EventDraft } from './draft.js';

const MAX_PREV = 10;
const MAX_DEPTH = Number.MAX_SAFE_INTEGER;

export interface GraphTip {
  roomId: string;
  extremities: Array<{ eventId: string; depth: number }>;
}

/** The PDU without auth_events, hashes or signatures. */
export function placeDraft(draft: EventDraft, tip: GraphTip | undefined, rules: RoomVersionRules, ts: number): Pdu {
  const prev = [...(tip?.extremities ?? [])].sort((a, b) => b.depth - a.depth).slice(0, MAX_PREV);
  const depth = Math.min(MAX_DEPTH, prev.reduce((d, p) => Math.max(d, p.depth), 0) + 1);
  const pdu: Pdu = {
    type: draft.type,
    sender: draft.sender,
    content: draft.content,
    origin_server_ts: ts,
    depth,
    prev_events: prev.map((p) => p.eventId),
    auth_events: [],
    hashes: { sha256: '' },
    signatures: {},
  };
  // A v12 create event has no room_id: the room ID is derived from it.
  const isV12Create = rules.roomIdIsCreateEventHash && draft.type === 'm.room.create' && draft.stateKey === '';
  if (tip && !isV12Create) pdu.room_id = tip.roomId;
  if (draft.stateKey !== undefined) pdu.state_key = draft.stateKey;
  if (draft.redacts !== undefined) {
    // v11+ carry `redacts` in content; older versions at the top level (rooms/v11.md "Redactions").
    if (rules.redactsInContent) pdu.content = { ...draft.content, redacts: draft.redacts };
    else pdu.redacts = draft.redacts;
  }
  return pdu;
}

/** The (type, state key) pairs whose current events become the event's auth_events. */
export function authSelection(pdu: Pdu, rules: RoomVersionRules): Array<[string, string]> {
  return authEventTypesFor(pdu, rules);
}
