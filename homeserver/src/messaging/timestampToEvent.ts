// GET /rooms/{roomId}/timestamp_to_event: the event nearest to a time, from the local
// timeline (an index by origin_server_ts). Spec: room_event_by_timestamp.yaml.
import { forbidden, notFound } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { EventTimesRepo } from '../storage/eventTimesRepo.js';
import { mayReadRoom } from './roomAccess.js';

const PROBE = 50;

export interface TimestampDeps {
  times: Pick<EventTimesRepo, 'near'>;
  reader: Pick<RoomReader, 'membership' | 'currentStateEvent' | 'roomVersion'>;
  shortRoom(roomId: string): Promise<number | undefined>;
  eventsByShort(shorts: number[]): Promise<Array<StoredEvent | undefined>>;
  visible(userId: string, roomId: string, events: StoredEvent[]): Promise<StoredEvent[]>;
}

export async function timestampToEvent(
  deps: TimestampDeps,
  userId: string,
  roomId: string,
  ts: number,
  dir: 'f' | 'b',
): Promise<{ event_id: string; origin_server_ts: number }> {
  const shortRoom = await deps.shortRoom(roomId);
  if (shortRoom === undefined || !(await mayReadRoom(deps.reader, userId, roomId))) {
    throw forbidden('You are not allowed to view this room');
  }
  const candidates = (await deps.eventsByShort(await deps.times.near(shortRoom, ts, dir, PROBE))).filter(
    (e): e is StoredEvent => e !== undefined && !e.outlier,
  );
  const [found] = await deps.visible(userId, roomId, candidates);
  if (!found) throw notFound(`Unable to find event from ${ts} in ${dir === 'f' ? 'forward' : 'backward'} direction`);
  return { event_id: found.eventId, origin_server_ts: found.pdu.origin_server_ts };
}
