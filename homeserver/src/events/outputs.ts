// The room service's typed output stream. Sync, federation, push and policy consume
// it; none of them reach into the room service's storage. Listeners run synchronously
// after the write is durable, so they must be quick (wake someone, enqueue work).
import type { StoredEvent } from '../rooms/types.js';

export type RoomOutput =
  /** A new event was appended to a room's timeline (already durable). */
  | { kind: 'new_event'; event: StoredEvent }
  /** A stored event's content was pruned because of `redaction`. */
  | { kind: 'redaction'; roomId: string; redactedEventId: string; redaction: StoredEvent };

export type OutputListener = (out: RoomOutput) => void;

export class RoomOutputs {
  private readonly listeners: OutputListener[] = [];

  subscribe(listener: OutputListener): void {
    this.listeners.push(listener);
  }

  emit(out: RoomOutput): void {
    for (const l of this.listeners) l(out);
  }
}
