// The tip of a room as its writer sees it: room record, version rules and the
// resolved current state. Owned by the room's queue; lookups of state events are
// async, so auth checks get a prefetched synchronous view (stateLookupFor).
import { roomVersion, type RoomVersionRules } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type Pdu } from '@parley/federation/core/types';
import type { StateLookup } from '@parley/federation/core/auth/index';
import type { EventRecord } from '../storage/eventsRepo.js';
import type { RoomStorage } from '../storage/roomStorage.js';
import type { RoomRecord } from '../storage/roomsRepo.js';
import type { ShortState } from '../storage/stateRepo.js';

export interface RoomHead {
  shortRoom: number;
  rules: RoomVersionRules;
  record: RoomRecord;
  /** Current state: short state key → short event. */
  state: ShortState;
  /** Events staged in the batch being built but not yet committed (several events per batch, e.g. createRoom). */
  staged?: ReadonlyMap<number, EventRecord>;
}

export async function loadHead(storage: RoomStorage, roomId: string): Promise<RoomHead | undefined> {
  const shortRoom = await storage.ids.room(roomId);
  if (shortRoom === undefined) return undefined;
  const record = await storage.rooms.get(shortRoom);
  if (!record) return undefined;
  const rules = roomVersion(record.version);
  if (!rules) throw new Error(`room ${roomId} has unknown version ${record.version}`);
  return { shortRoom, rules, record, state: await storage.state.resolve(record.stateGroup) };
}

/** The current state event at (type, stateKey), if any. */
export async function headStateEvent(storage: RoomStorage, head: RoomHead, type: string, stateKey: string): Promise<EventRecord | undefined> {
  const k = await storage.ids.stateKey(stateKeyOf(type, stateKey));
  const e = k === undefined ? undefined : head.state.get(k);
  if (e === undefined) return undefined;
  return head.staged?.get(e) ?? storage.events.byShort(e);
}

/** A synchronous lookup answering the given (type, state key) pairs from the current state. */
export async function stateLookupFor(
  storage: RoomStorage,
  head: RoomHead,
  keys: Array<[type: string, stateKey: string]>,
): Promise<StateLookup> {
  const found = new Map<string, Pdu>();
  await Promise.all(
    keys.map(async ([t, k]) => {
      const ev = await headStateEvent(storage, head, t, k);
      if (ev) found.set(stateKeyOf(t, k), ev.pdu);
    }),
  );
  return (type, stateKey) => found.get(stateKeyOf(type, stateKey));
}
