// Access to the auth DAG. The caller preloads every event the resolution can reach;
// a gap means the caller's preload was wrong, so it is an error rather than a guess.
import type { RoomEvent } from '../types.js';

export type GetEvent = (id: string) => RoomEvent | undefined;

export class MissingEventError extends Error {
  constructor(readonly eventId: string) {
    super(`state resolution needs event ${eventId}, which was not provided`);
    this.name = 'MissingEventError';
  }
}

export function requireEvent(getEvent: GetEvent, id: string): RoomEvent {
  const ev = getEvent(id);
  if (ev === undefined) throw new MissingEventError(id);
  return ev;
}
