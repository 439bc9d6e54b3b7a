// Turns stored events into what a client receives: the client format from the rooms
// module's formatter, then the filter's event_format and event_fields.
// Spec: client-server-api/_index.md "Room event format"; sync_filter.yaml event_format,
// event_fields; sync.yaml (events inside rooms.* carry no room_id).
import type { StoredEvent } from '../rooms/types.js';
import { projectFields } from './filterMatch.js';
import type { ClientEventFormatter, RelationsBundler, Viewer } from './ports.js';

export interface SerializeOptions {
  eventFields?: string[][];
  eventFormat?: 'client' | 'federation';
  /** /sync omits room_id (ClientEventWithoutRoomID). */
  withoutRoomId?: boolean;
}

export class EventSerializer {
  constructor(
    private readonly format: ClientEventFormatter,
    /** Adds unsigned.m.relations (client-server-api "Aggregations of child events"); one call per page. */
    private readonly bundle?: RelationsBundler,
  ) {}

  async many(events: StoredEvent[], viewer: Viewer, now: number, opts: SerializeOptions = {}): Promise<Record<string, unknown>[]> {
    const bundles = this.bundle && opts.eventFormat !== 'federation' && events.length > 0 ? await this.bundle(events, viewer, now) : undefined;
    return Promise.all(events.map((e) => this.serialize(e, viewer, now, opts, bundles?.get(e.eventId))));
  }

  async one(ev: StoredEvent, viewer: Viewer, now: number, opts: SerializeOptions = {}): Promise<Record<string, unknown>> {
    return (await this.many([ev], viewer, now, opts))[0];
  }

  private async serialize(
    ev: StoredEvent,
    viewer: Viewer,
    now: number,
    opts: SerializeOptions,
    relations: Record<string, unknown> | undefined,
  ): Promise<Record<string, unknown>> {
    let out: Record<string, unknown>;
    if (opts.eventFormat === 'federation') {
      out = { ...ev.pdu };
    } else {
      const formatted = await this.format(ev, viewer, now);
      // Copied without room_id rather than deleted from the copy: a deletion turns the object
      // into a slow dictionary, which every later read and the JSON encoding pay for.
      if (opts.withoutRoomId) {
        const { room_id: _roomId, ...rest } = formatted;
        out = rest;
      } else out = { ...formatted };
      if (relations) out.unsigned = { ...(out.unsigned as Record<string, unknown> | undefined), 'm.relations': relations };
    }
    return projectFields(out, opts.eventFields);
  }
}
