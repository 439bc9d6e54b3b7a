// Shapes of the protocol's data, shared by every layer.
// Spec: server-server-api.md "PDUs", rooms/v12.md "Event format".

/** Any JSON value that canonical JSON can encode. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** `signatures` block: server name → key ID (`ed25519:abc`) → unpadded base64 signature. */
export type Signatures = Record<string, Record<string, string>>;

/**
 * A persistent data unit as it travels over federation (room versions 3+:
 * no `event_id` field; the ID is the reference hash). Versions 1-2 carry `event_id`.
 * In room version 12 the `m.room.create` event has no `room_id`.
 */
export interface Pdu {
  room_id?: string;
  sender: string;
  origin_server_ts: number;
  type: string;
  state_key?: string;
  content: JsonObject;
  prev_events: string[];
  auth_events: string[];
  depth: number;
  hashes: { sha256: string };
  signatures: Signatures;
  unsigned?: JsonObject;
  /** Present in room versions 1-9 only for m.room.redaction; v11+ move it into content. */
  redacts?: string;
  /** Room versions 1 and 2 only. */
  event_id?: string;
  [extra: string]: JsonValue | undefined;
}

/**
 * Room versions 1 and 2 reference events as `[event_id, {sha256}]` pairs. The server holds
 * `prev_events`/`auth_events` as bare IDs and keeps each pair's hash object here, in order,
 * so that the signed wire form can be rebuilt exactly (core/eventRefs.ts). Absent for v3+.
 */
export interface RefHashes {
  prev: JsonObject[];
  auth: JsonObject[];
}

/** A PDU together with its (computed) event ID and room ID, as the server holds it. */
export interface RoomEvent {
  eventId: string;
  roomId: string;
  pdu: Pdu;
  /** v1/v2 only: the hashes of the event references, see RefHashes. */
  refHashes?: RefHashes;
}

/** A state key of the room state map: `${type}\u0000${stateKey}`. */
export type StateKey = string;
export const stateKeyOf = (type: string, stateKey: string): StateKey => `${type}\u0000${stateKey}`;
export const splitStateKey = (key: StateKey): [type: string, stateKey: string] => {
  const i = key.indexOf('\u0000');
  return [key.slice(0, i), key.slice(i + 1)];
};
