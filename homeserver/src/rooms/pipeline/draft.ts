// What a local write asks for: the parts of an event the sender chooses. The
// pipeline adds the graph position, auth events, hashes, signature and ID.
import type { JsonObject } from '@parley/federation/core/types';

export interface EventDraft {
  type: string;
  sender: string;
  content: JsonObject;
  /** Present for state events (may be ''). */
  stateKey?: string;
  /** For m.room.redaction: the event it redacts (placed in content or at top level per room version). */
  redacts?: string;
}
