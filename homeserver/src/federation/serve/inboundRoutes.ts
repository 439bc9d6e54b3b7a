// The serving side of federation, assembled: the port adapters over the homeserver's
// services, and the FederationRoute modules (federation/src/api) that use them.
// main.ts hands the result to federationModule.addRoutes.
import { eventRoutes } from '@parley/federation/api/events';
import { inviteRoutes } from '@parley/federation/api/invites';
import { joinRoutes } from '@parley/federation/api/joins';
import { knockRoutes } from '@parley/federation/api/knocks';
import { leaveRoutes } from '@parley/federation/api/leaves';
import type { FederationRoute } from '@parley/federation/api/route';
import { transactionRoutes } from '@parley/federation/api/transactions';
import { queryRoutes } from '@parley/federation/api/query';
import { userKeysRoutes } from '@parley/federation/api/userKeys';
import { openIdRoutes } from '@parley/federation/api/openid';
import { roomDirectoryRoutes } from '@parley/federation/api/roomDirectory';
import type { RoomDirectoryPort, TransactionResultStore, UserQueryPort } from '@parley/federation/ports';
import type { SigningKey } from '@parley/federation/signing/ed25519Key';
import type { StoredRoomReader } from '../../rooms/roomReader.js';
import type { TxnResultsRepo } from '../../storage/txnResultsRepo.js';
import type { SignatureChecker } from '../ingest/receivedPdu.js';
import type { RemoteIngest } from '../ingest/remoteIngest.js';
import { MembershipHandshakeAdapter } from './handshakeAdapter.js';
import { QueryAdapter, type QueryDeps } from './queryAdapter.js';
import { RoomEventsAdapter } from './roomEventsAdapter.js';
import { TransactionAdapter, type EduSinks } from './transactionAdapter.js';

export interface InboundDeps {
  serverName: string;
  signingKey: SigningKey;
  reader: StoredRoomReader;
  ingest: RemoteIngest;
  keys: SignatureChecker;
  edus: EduSinks;
  /** Profiles and aliases for query/*; without it those endpoints answer 404. */
  query?: Omit<QueryDeps, 'serverName'>;
  /** Pass an accepted remote event (send_join/leave/knock) on to the room's other servers. */
  forward?: (roomId: string, eventId: string, exclude: string[]) => void;
  /** Rooms joined with partial state: make_join/leave/knock answer 404 until their state is complete. */
  partialState?: { isPartial(roomId: string): boolean; awaitFullState(roomId: string): Promise<void> };
  /** user/devices, user/keys/*, openid/userinfo (federation/serve/userQueryAdapter.ts); without it those answer 404. */
  users?: UserQueryPort;
  /** publicRooms and hierarchy (federation/serve/roomDirectoryAdapter.ts); without it those answer 404. */
  directory?: RoomDirectoryPort;
  /** Durable answers of /send for retried transactions (storage/txnResultsRepo.ts); without it they are kept in memory only. */
  txnResults?: TransactionResultStore & Pick<TxnResultsRepo, 'stage'>;
  onWarning?: (msg: string, extra: Record<string, unknown>) => void;
}

export function inboundFederationRoutes(d: InboundDeps): FederationRoute[] {
  const handshake = new MembershipHandshakeAdapter({
    serverName: d.serverName,
    signingKey: d.signingKey,
    reader: d.reader,
    ingest: d.ingest,
    keys: d.keys,
    ...(d.forward ? { forward: d.forward } : {}),
    ...(d.partialState ? { partialState: d.partialState } : {}),
  });
  const transactions = new TransactionAdapter({
    ingest: d.ingest,
    reader: d.reader,
    sinks: d.edus,
    ...(d.txnResults ? { answers: d.txnResults } : {}),
    ...(d.onWarning ? { onWarning: d.onWarning } : {}),
  });
  return [
    ...transactionRoutes({ port: transactions, ...(d.txnResults ? { results: d.txnResults } : {}) }),
    ...eventRoutes({ port: new RoomEventsAdapter(d.reader), local: { serverName: d.serverName } }),
    ...joinRoutes({ port: handshake }),
    ...leaveRoutes({ port: handshake }),
    ...knockRoutes({ port: handshake }),
    ...inviteRoutes({ port: handshake }),
    ...queryRoutes({
      port: new QueryAdapter({ serverName: d.serverName, profile: d.query?.profile ?? (async () => undefined), alias: d.query?.alias ?? (async () => undefined) }),
    }),
    ...(d.users ? [...userKeysRoutes({ port: d.users }), ...openIdRoutes({ port: d.users })] : []),
    ...(d.directory ? roomDirectoryRoutes({ port: d.directory }) : []),
  ];
}
