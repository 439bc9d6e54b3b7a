// Turns stored events into what a client receives: the client format from the rooms
// module's formatter, then the filter's event_format and event_fields.
// Spec: client-server-api/_index.md "Room event format"; sync_filter.yaml event_format,
// event_fields; sync.yaml (events inside rooms.* carry no room_id).
import type { StoredEvent } from '../rooms/types.js';
import { projectFields } from './filterMatch.js';
import type { ClientEventFormatter, Viewer } from './ports.js';

export interface SerializeOptions {
  eventFields?: string[][];
  eventFormat?: 'client' | 'federation';
  /** /sync omits room_id (ClientEventWithoutRoomID). */
  withoutRoomId?: boolean;
}

export class EventSerializer {
  constructor(private readonly format: ClientEventFormatter) {}

  async many(events: StoredEvent[], viewer: Viewer, now: number, opts: SerializeOptions = {}): Promise<Record<string, unknown>[]> {
    return Promise.all(events.map((e) => this.one(e, viewer, now, opts)));
  }

  async one(ev: StoredEvent, viewer: Viewer, now: number, opts: SerializeOptions = {}): Promise<Record<string, unknown>> {
    let out: Record<string, unknown>;
    if (opts.eventFormat === 'federation') {
      out = { ...ev.pdu };
    } else {
      out = { ...(await this.format(ev, viewer, now)) };
      if (opts.withoutRoomId) delete out.room_id;
    }
    return projectFields(out, opts.eventFields);
  }
}
