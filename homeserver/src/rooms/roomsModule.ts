// Builds the room service from its parts, for main.ts and tests.
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import type { RoomOutputs } from '../events/outputs.js';
import type { Database } from '../storage/db.js';
import { openRoomStorage, type RoomStorage } from '../storage/roomStorage.js';
import { RoomAliases } from './aliasService.js';
import { RoomCreator } from './createRoom.js';
import { EventService } from './eventService.js';
import { MembershipService } from './membershipService.js';
import type { ProfileLookup, RemoteAliasResolver, RemoteInviter, RemoteJoiner, RemoteKnocker, RemoteLeaver } from './ports.js';
import type { PartialStateView } from './partialStateRooms.js';
import { RoomQueries } from './roomQueries.js';
import { RoomQueue } from './roomQueue.js';
import { relationSendCheck } from './relationChecks.js';
import { StoredRoomReader } from './roomReader.js';
import { RoomWriter, type StreamPositions } from './roomWriter.js';
import { HistoryVisibility, type ErasureLookup } from './visibility.js';

export interface RoomsDeps {
  db: Database;
  counter: StreamPositions;
  outputs: RoomOutputs;
  serverName: string;
  signingKey: SigningKey;
  profiles: ProfileLookup;
  remoteJoiner?: RemoteJoiner;
  /** Knocks on rooms this server is not in (federation). */
  remoteKnocker?: RemoteKnocker;
  /** Rejected invites and rescinded knocks of rooms this server is not in (federation). */
  remoteLeaver?: RemoteLeaver;
  /** Countersigning of invites of other servers' users (federation). */
  remoteInviter?: RemoteInviter;
  /** Resolves aliases of other servers (federation). */
  remoteAliases?: RemoteAliasResolver;
  clock?: () => number;
  onError?: (err: unknown, what: string) => void;
  /** Users erased on deactivation: their events are served redacted to later joiners. */
  erasure?: ErasureLookup;
  /** Rooms blocked by a server admin: local users may not join them. */
  blocked?: { isBlocked(roomId: string): Promise<boolean> };
  /** Rooms joined with partial state (MSC3706): member lists wait for their full state. */
  partialState?: Pick<PartialStateView, 'awaitFullState'>;
}

export interface Rooms {
  storage: RoomStorage;
  reader: StoredRoomReader;
  writer: RoomWriter;
  visibility: HistoryVisibility;
  events: EventService;
  membership: MembershipService;
  aliases: RoomAliases;
  creator: RoomCreator;
  queries: RoomQueries;
  /** Wait for every queued room write to finish (shutdown). */
  drain(): Promise<void>;
}

export async function openRooms(deps: RoomsDeps): Promise<Rooms> {
  const storage = await openRoomStorage(deps.db);
  const queue = new RoomQueue();
  const reader = new StoredRoomReader(storage);
  const writer = new RoomWriter({
    storage,
    counter: deps.counter,
    outputs: deps.outputs,
    signer: { serverName: deps.serverName, key: deps.signingKey },
    queue,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const visibility = new HistoryVisibility(reader, deps.erasure);
  const aliases = new RoomAliases({ storage, reader, serverName: deps.serverName, ...(deps.remoteAliases ? { remote: deps.remoteAliases } : {}) });
  const membership = new MembershipService({
    writer,
    reader,
    storage,
    aliases,
    profiles: deps.profiles,
    serverName: deps.serverName,
    ...(deps.remoteJoiner ? { remoteJoiner: deps.remoteJoiner } : {}),
    ...(deps.remoteKnocker ? { remoteKnocker: deps.remoteKnocker } : {}),
    ...(deps.remoteLeaver ? { remoteLeaver: deps.remoteLeaver } : {}),
    ...(deps.remoteInviter ? { remoteInviter: deps.remoteInviter } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
    ...(deps.blocked ? { blocked: deps.blocked } : {}),
  });
  return {
    storage,
    reader,
    writer,
    visibility,
    events: new EventService(writer, reader, relationSendCheck(storage.relations, reader)),
    membership,
    aliases,
    creator: new RoomCreator({ writer, aliases, membership, published: storage.published, serverName: deps.serverName }),
    queries: new RoomQueries(reader, visibility, deps.clock, deps.partialState),
    drain: () => queue.drain(),
  };
}
