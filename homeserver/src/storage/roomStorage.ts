// Everything the room service stores, opened together.
import { AliasesRepo } from './aliasesRepo.js';
import type { Database } from './db.js';
import { EventsRepo } from './eventsRepo.js';
import { MembersRepo } from './membersRepo.js';
import { PublishedRoomsRepo } from './publishedRoomsRepo.js';
import { EventTimesRepo } from './eventTimesRepo.js';
import { RelationsRepo } from './relationsRepo.js';
import { RoomsRepo } from './roomsRepo.js';
import { ShortIds } from './shortIds.js';
import { StateRepo } from './stateRepo.js';
import { TimelineRepo } from './timelineRepo.js';
import { TxnRepo } from './txnRepo.js';

export interface RoomStorage {
  db: Database;
  ids: ShortIds;
  events: EventsRepo;
  timeline: TimelineRepo;
  state: StateRepo;
  rooms: RoomsRepo;
  members: MembersRepo;
  txns: TxnRepo;
  aliases: AliasesRepo;
  published: PublishedRoomsRepo;
  /** m.relates_to index, annotations, thread activity (messaging features). */
  relations: RelationsRepo;
  /** Events by origin_server_ts (/timestamp_to_event). */
  eventTimes: EventTimesRepo;
}

export async function openRoomStorage(db: Database): Promise<RoomStorage> {
  const ids = await ShortIds.open(db);
  return {
    db,
    ids,
    events: new EventsRepo(db, ids),
    timeline: new TimelineRepo(db),
    state: await StateRepo.open(db),
    rooms: new RoomsRepo(db),
    members: new MembersRepo(db),
    txns: new TxnRepo(db),
    aliases: new AliasesRepo(db),
    published: new PublishedRoomsRepo(db),
    relations: new RelationsRepo(db),
    eventTimes: new EventTimesRepo(db),
  };
}
