// The only wiring point: open storage, build the services, mount their routes,
// listen. Everything else receives what it needs through its constructor.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { parseBind } from './config/config.js';
import { Database } from './storage/db.js';
import { StreamCounter } from './storage/streamCounter.js';
import { createApp } from './http/app.js';
import { RateLimiter } from './http/rateLimiter.js';
import type { Route } from './http/route.js';
import { discoveryRoutes } from './api/client/discovery.js';
import { createAccountsModule } from './users/accountsModule.js';
import { hashingOptions } from './users/password.js';
import { noopAccountPorts } from './users/ports.js';
import { RoomOutputs } from './events/outputs.js';
import { openRooms } from './rooms/roomsModule.js';
import { roomRoutes } from './api/client/rooms.js';
import { loadOrCreateSigningKey } from './storage/signingKeyRepo.js';
import { StoredProfiles } from './storage/profilesView.js';
import { UsersRepo } from './storage/usersRepo.js';
import { createSyncModule } from './sync/syncModule.js';
import { toClientEvent } from './events/clientEvent.js';
import { createE2eeModule } from './e2ee/e2eeModule.js';
import { createMediaModule } from './media/mediaModule.js';
import { createAdminModule } from './admin/adminModule.js';
import { createServerNoticesModule } from './serverNotices/serverNoticesModule.js';
import { PARLEY_VERSION } from './admin/version.js';
import { ErasedUsers } from './users/erasedUsers.js';
import { BlockedRoomsRepo } from './storage/blockedRoomsRepo.js';
import { createPushModule, syncUnreadCounter } from './push/pushModule.js';
import { createMessagingModule } from './messaging/messagingModule.js';
import { createPresenceModule } from './presence/presenceModule.js';
import { createDirectoryModule } from './directory/directoryModule.js';
import { createSearchModule } from './search/searchModule.js';
import { threepidRoutes } from './api/client/threepid.js';
import { withR0Aliases } from './http/r0Aliases.js';
import { createFederationModule } from './federation/federationModule.js';
import { LateRoomPorts } from './federation/outbound/lateRoomPorts.js';
import { FederationSender } from './federation/outbound/sender.js';
import { FederationDirectory } from './federation/outbound/remoteDirectory.js';
import { FederationRemoteJoiner } from './federation/outbound/remoteJoiner.js';
import { FederationRemoteKnocker, writerKnockRecorder } from './federation/outbound/remoteKnocker.js';
import { FederationPublicRooms } from './federation/outbound/remotePublicRooms.js';
import { FederationHierarchy } from './federation/outbound/remoteHierarchy.js';
import { FederationRemoteInviter } from './federation/outbound/remoteInviter.js';
import { FederationProfiles } from './federation/outbound/remoteProfiles.js';
import { OutboundCatchUp, OutboxWatermark } from './federation/outbound/catchUp.js';
import { PduRetrier } from './federation/ingest/pduRetrier.js';
import { PendingPdusRepo } from './storage/pendingPdusRepo.js';
import { FederationOutboxRepo } from './storage/federationOutboxRepo.js';
import { federationRemoteKeys } from './federation/outbound/remoteKeys.js';
import { RemoteIngest } from './federation/ingest/remoteIngest.js';
import { PartialStateResync } from './federation/outbound/partialStateResync.js';
import { PartialStateRooms } from './rooms/partialStateRooms.js';
import { PartialStateRepo } from './storage/partialStateRepo.js';
import { inboundFederationRoutes } from './federation/serve/inboundRoutes.js';
import { E2eeRepo } from './storage/e2eeRepo.js';
import { RemoteDevicesRepo } from './storage/remoteDevicesRepo.js';
import { OpenIdRepo } from './storage/openIdRepo.js';
import { cachedRemoteKeys, RemoteDeviceLists } from './federation/serve/remoteDeviceLists.js';
import { inboundEduHandler } from './federation/serve/inboundEdus.js';
import { UserQueryAdapter } from './federation/serve/userQueryAdapter.js';
import { RoomDirectoryAdapter } from './federation/serve/roomDirectoryAdapter.js';
import { OpenIdTokens } from './federation/serve/openIdTokens.js';
import { openIdClientRoutes } from './api/client/openid.js';
import { SpaceHierarchy } from './messaging/hierarchy.js';
import { TxnResultsRepo } from './storage/txnResultsRepo.js';
import { DeviceListSender, type UserDevicesView } from './federation/outbound/deviceListSender.js';
import { PresenceSender } from './federation/outbound/presenceSender.js';
import { serversSharingRoomWith } from './federation/outbound/roomServers.js';
import { FederationBackfiller, storedGaps } from './federation/outbound/backfiller.js';
import { FederationRemoteLeaver } from './federation/outbound/remoteLeaver.js';
import { DeviceListOutboxRepo } from './storage/deviceListOutboxRepo.js';

export interface RunningServer {
  /** Stop accepting, let in-flight requests and writes finish, close the database. */
  stop(): Promise<void>;
  addresses(): string[];
}

export async function startHomeserver(config: Config, logger: Logger): Promise<RunningServer> {
  // <data_dir>/db holds the LevelDB database; other stores (media) have their own folders beside it.
  const db = await Database.open(join(config.data_dir, 'db'));
  const stream = await StreamCounter.open(db);
  const listener = config.listeners[0];
  const publicBaseUrl =
    config.public_baseurl ?? `${listener.tls_cert ? 'https' : 'http'}://${listener.bind.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`;

  // ── services (each module's wiring goes here) ─────────────────────────────
  const shutdownHooks: Array<() => Promise<void> | void> = [];
  // Run before waiting for in-flight requests: they release waits (long-polls) so requests can end.
  // shutdownHooks run after the requests ended, so nothing writes behind a stopped consumer.
  const releaseHooks: Array<() => void> = [];
  // Work that calls other servers starts once we listen: a peer answering our first transaction
  // calls back at once (get_missing_events, state_ids, keys), and must find us up.
  const afterListening: Array<() => Promise<void> | void> = [];
  const routes: Route<unknown, unknown>[] = [...discoveryRoutes({ publicBaseUrl })];
  // accounts, devices, profiles, UIA (users/accountsModule.ts). The ports are no-ops until the
  // rooms and E2EE services exist: replace accountPorts.membership/.profile/.deviceEvents then.
  const accountPorts = noopAccountPorts();
  // Users erased on deactivation: loaded before anything serves events (users/erasedUsers.ts).
  const erasedUsers = await ErasedUsers.load(new UsersRepo(db));
  const accountsModule = createAccountsModule(
    db,
    { serverName: config.server_name, registration: config.registration, ...hashingOptions(config.password_hashing) },
    accountPorts,
    logger,
    { erased: erasedUsers },
  );
  routes.push(...accountsModule.routes);
  const authenticator = accountsModule.accounts;
  // rooms: event graph, room writer, RoomReader, room endpoints (rooms/roomsModule.ts).
  const roomOutputs = new RoomOutputs();
  // Joins of unknown rooms and remote aliases: bound below once federation exists.
  const federationRoomPorts = new LateRoomPorts();
  // Rooms blocked through the admin API (delete room `block`).
  const blockedRooms = new BlockedRoomsRepo(db);
  // Rooms joined with partial state (MSC3706), completed in the background (federation/outbound/partialStateResync.ts).
  const partialStateRooms = await PartialStateRooms.open(new PartialStateRepo(db));
  const rooms = await openRooms({
    db,
    counter: stream,
    outputs: roomOutputs,
    serverName: config.server_name,
    signingKey: await loadOrCreateSigningKey(db),
    profiles: new StoredProfiles(new UsersRepo(db)),
    onError: (err, what) => logger.error({ err }, `rooms: ${what} failed`),
    remoteJoiner: federationRoomPorts,
    remoteKnocker: federationRoomPorts,
    remoteLeaver: federationRoomPorts,
    remoteAliases: federationRoomPorts,
    remoteInviter: federationRoomPorts,
    erasure: erasedUsers,
    blocked: blockedRooms,
    partialState: partialStateRooms,
  });
  routes.push(...roomRoutes(rooms));
  accountPorts.membership = { leaveAllRooms: (userId) => rooms.membership.leaveAllRooms(userId) };
  accountPorts.profile = { profileChanged: (userId) => rooms.membership.profileChanged(userId) };
  shutdownHooks.push(() => rooms.drain());
  // federation: key ring, outbound transport and persisted queues, X-Matrix on inbound routes,
  // sending local events and EDUs (federation/federationModule.ts, federation/outbound/).
  const federation = createFederationModule({
    db,
    identity: { serverName: config.server_name, signingKey: await loadOrCreateSigningKey(db) },
    config: config.federation,
    reader: rooms.reader,
    logger,
  });
  // Which local events are surely queued, so a restart queues again what a crash cut off (outbound/catchUp.ts).
  const outboxWatermark = new OutboxWatermark();
  const federationSender = new FederationSender({
    serverName: config.server_name,
    reader: rooms.reader,
    queues: federation.queues,
    onError: (err, what) => logger.error({ err }, `federation: ${what} failed`),
    watermark: outboxWatermark,
    partialStateServers: (roomId) => partialStateRooms.serversInRoom(roomId),
  });
  if (federation.enabled) {
    roomOutputs.subscribe(federationSender.onRoomOutput);
    federationRoomPorts.bindAliases(new FederationDirectory(federation.client));
  }
  shutdownHooks.push(() => federation.stop());
  // relations, threads, bundled aggregations, ignored users, upgrades, knocking, reports,
  // timestamp_to_event, space hierarchy, tags, mutual rooms (messaging/messagingModule.ts).
  const messaging = createMessagingModule({
    db,
    rooms,
    serverName: config.server_name,
    // /hierarchy of rooms this server is not in: federation hierarchy (federation/outbound/remoteHierarchy.ts).
    ...(federation.enabled ? { remoteHierarchy: new FederationHierarchy({ client: federation.client, serverName: config.server_name }) } : {}),
    onError: (err, what) => logger.error({ err }, `messaging: ${what} failed`),
  });
  routes.push(...messaging.routes);
  // sync, /messages, /context, typing, receipts, read markers, account data, filters (sync/syncModule.ts).
  const syncModule = createSyncModule({
    db,
    stream,
    reader: rooms.reader,
    outputs: roomOutputs,
    // History visibility, minus ignored users' events (messaging/ignoredUsers.ts).
    visible: messaging.visible,
    format: toClientEvent,
    bundle: messaging.bundle,
    ignored: messaging.ignored,
    // Counts come from push rules (built below).
    unread: syncUnreadCounter(() => push),
    onRead: (userId, roomId, eventId, thread) => push.receiptMoved(userId, roomId, eventId, thread),
    // Rooms joined with partial state are left out until complete (unless lazy-loading members).
    partialState: partialStateRooms,
  });
  routes.push(...syncModule.routes);
  routes.push(...messaging.tagRoutes(syncModule.accountData));
  // Held long-polls return at once on shutdown so that in-flight requests can end.
  releaseHooks.push(() => syncModule.close());
  // Syncs released or refused above may still be reading: they finish before the database closes.
  shutdownHooks.push(() => syncModule.idle());
  // Other servers' users' device lists, cached from m.device_list_update EDUs and user/devices
  // resyncs; /keys/query answers from it (federation/serve/remoteDeviceLists.ts).
  const e2eeRepo = new E2eeRepo(db);
  const remoteDeviceLists = new RemoteDeviceLists({
    serverName: config.server_name,
    repo: new RemoteDevicesRepo(db, (userId, pos) => e2eeRepo.deviceListChangeOps(userId, pos)),
    // e2ee is built next; the lists only change once EDUs arrive.
    deviceLists: { change: (userId, write) => e2ee.service.deviceLists.change(userId, write) },
    reader: rooms.reader,
    client: federation.client,
    onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-inbound' }, msg),
  });
  // end-to-end encryption: keys, cross-signing, to-device, key backup, dehydrated devices (e2ee/e2eeModule.ts).
  const e2ee = createE2eeModule({
    db,
    serverName: config.server_name,
    stream,
    notifier: syncModule.notifier,
    rooms: rooms.reader,
    outputs: roomOutputs,
    devices: accountsModule.devices,
    uia: accountsModule.uia,
    ...(federation.enabled
      ? { remote: cachedRemoteKeys(remoteDeviceLists, federationRemoteKeys(federation.client)), outgoingToDevice: { send: (d, edu) => federationSender.sendToDevice(d, edu) } }
      : {}),
  });
  routes.push(...e2ee.routes);
  accountPorts.deviceEvents = e2ee.deviceEvents;
  syncModule.sync.addExtension(e2ee.service.syncExtension);
  // Before any request: which devices have to-device messages queued, so that every client's
  // first /sync after a restart does not read its (nearly always empty) queues.
  await e2eeRepo.prefillToDeviceCache();
  // media repository: uploads, downloads, thumbnails, URL previews (media/mediaModule.ts).
  const mediaModule = await createMediaModule(db, { serverName: config.server_name, dataDir: config.data_dir, media: config.media }, logger);
  routes.push(...mediaModule.routes);
  releaseHooks.push(() => mediaModule.close());
  // Synapse-compatible admin API under /_synapse/admin (admin/adminModule.ts).
  const adminModule = createAdminModule({
    db,
    serverName: config.server_name,
    version: PARLEY_VERSION,
    accounts: accountsModule,
    rooms,
    media: mediaModule.media,
    blocked: blockedRooms,
    onError: (err, what) => logger.error({ err }, `admin: ${what} failed`),
  });
  routes.push(...adminModule.routes);
  shutdownHooks.push(() => adminModule.idle());
  // server notices: system user, one m.server_notice-tagged room per user, admin send_server_notice (serverNotices/).
  const serverNotices = createServerNoticesModule({
    db,
    serverName: config.server_name,
    config: config.server_notices,
    accounts: accountsModule,
    rooms,
    accountData: syncModule.accountData,
  });
  routes.push(...serverNotices.routes);
  await serverNotices.start();
  // push rules, notification counts, GET /notifications, pushers and gateway delivery (push/pushModule.ts).
  const push = createPushModule({
    db,
    reader: rooms.reader,
    outputs: roomOutputs,
    stream,
    serverName: config.server_name,
    format: toClientEvent,
    accountData: syncModule.accountData,
    onError: (err, what) => logger.error({ err }, `push: ${what} failed`),
    // A batch's durable write goes after the answers its counts released.
    answered: () => syncModule.notifier.drained(),
  });
  routes.push(...push.routes);
  // A sync woken by a message is built once the message is counted (its answer carries the count).
  syncModule.notifier.setReadyGate((pos) => push.worker.countedUpTo(pos));
  await push.start();
  shutdownHooks.push(() => push.close());
  // A device's pushers go with the device (logout, deletion), as in Synapse.
  const deviceEventsBeforePush = accountPorts.deviceEvents;
  accountPorts.deviceEvents = {
    deviceUpdated: (userId, deviceId) => deviceEventsBeforePush.deviceUpdated(userId, deviceId),
    async devicesDeleted(userId, deviceIds) {
      await deviceEventsBeforePush.devicesDeleted(userId, deviceIds);
      for (const deviceId of deviceIds) await push.pushers.removeForDevice(userId, deviceId);
    },
  };
  // presence: PUT/GET /presence, set_presence on /sync, idle/offline timers, /sync `presence` (presence/presenceModule.ts).
  const presence = createPresenceModule({
    db,
    enabled: config.presence.enabled,
    serverName: config.server_name,
    reader: rooms.reader,
    outputs: roomOutputs,
    stream,
    notifier: syncModule.notifier,
    sync: syncModule.sync,
    onError: (err, what) => logger.error({ err }, `presence: ${what} failed`),
  });
  routes.push(...presence.routes);
  await presence.start();
  shutdownHooks.push(() => presence.close());
  // room directory (/publicRooms, /directory/list/room) and user directory (directory/directoryModule.ts).
  const directory = createDirectoryModule({
    db,
    reader: rooms.reader,
    outputs: roomOutputs,
    serverName: config.server_name,
    published: rooms.storage.published,
    profile: (userId) => new StoredProfiles(new UsersRepo(db)).profile(userId),
    // publicRooms?server=<other>: that server's directory over federation (federation/outbound/remotePublicRooms.ts).
    ...(federation.enabled ? { remote: new FederationPublicRooms(federation.client) } : {}),
    onError: (err, what) => logger.error({ err }, `directory: ${what} failed`),
  });
  routes.push(...directory.routes);
  await directory.start();
  // server-side search: full-text index following the room stream, POST /search (search/searchModule.ts).
  const search = createSearchModule({
    db,
    reader: rooms.reader,
    outputs: roomOutputs,
    stream,
    roomShort: (roomId) => rooms.storage.ids.room(roomId),
    visible: (userId, roomId, events) => rooms.visibility.filter(userId, roomId, events),
    format: toClientEvent,
    onError: (err, what) => logger.error({ err }, `search: ${what} failed`),
  });
  routes.push(...search.routes);
  await search.start();
  shutdownHooks.push(() => search.indexer.idle());
  // /account/3pid*: no 3PIDs on this server (api/client/threepid.ts).
  routes.push(...threepidRoutes());
  // federation, last: typing and receipts go out as EDUs; every federation.addRoutes(...) must come before routesToMount().
  if (federation.enabled) {
    syncModule.typing.onLocalChange((c) => federationSender.typingChanged(c));
    syncModule.receipts.onPublicReceipt((r) => federationSender.receiptSet(r));
  }
  // inbound federation: checks on receipt and ingest of remote PDUs into the room graph, and the
  // serving routes (/send, event/state reads, join/leave/knock handshakes, invites) —
  // federation/ingest/remoteIngest.ts, federation/serve/inboundRoutes.ts.
  const remoteIngest = new RemoteIngest({
    serverName: config.server_name,
    reader: rooms.reader,
    writer: rooms.writer,
    keys: federation.keyRing,
    requester: federation.client,
    onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-inbound' }, msg),
    partialState: partialStateRooms,
    keepForLater: (origin, eventId, pdu) => pduRetrier.keep(origin, eventId, pdu),
  });
  // PDUs of acknowledged transactions that could not be taken in yet (federation/ingest/pduRetrier.ts).
  const pduRetrier = new PduRetrier({
    store: new PendingPdusRepo(db),
    ingest: (origin, pdus) => remoteIngest.ingestPdus(origin, pdus),
    onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-inbound' }, msg),
  });
  federation.onPeerActivity((origin) => void pduRetrier.onPeerActivity(origin));
  afterListening.push(() => pduRetrier.start());
  // Stopped early (no new attempt once stopping), waited for with the other consumers.
  releaseHooks.push(() => void pduRetrier.stop());
  shutdownHooks.push(() => pduRetrier.stop());
  // Joins of rooms this server is not in: make_join/send_join via a resident (federation/outbound/remoteJoiner.ts),
  // with partial state (omit_members) completed in the background (federation/outbound/partialStateResync.ts).
  if (federation.enabled) {
    const partialStateResync = new PartialStateResync({
      serverName: config.server_name,
      rooms: partialStateRooms,
      reader: rooms.reader,
      writer: rooms.writer,
      ingest: remoteIngest,
      requester: federation.client,
      counter: stream,
      // The room now shows in its local members' /sync: wake their long-polls.
      onCompleted: async (roomId, pos) => {
        const local = (await rooms.reader.members(roomId)).filter((m) => m.member.membership === 'join' && m.userId.endsWith(`:${config.server_name}`));
        syncModule.notifier.notify(pos, { users: local.map((m) => m.userId), rooms: [roomId] });
      },
      onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-resync' }, msg),
      onInfo: (msg, extra) => logger.info({ ...extra, area: 'federation-resync' }, msg),
    });
    afterListening.push(() => partialStateResync.resumeAll());
    shutdownHooks.push(() => partialStateResync.stop());
    federationRoomPorts.bindJoiner(
      new FederationRemoteJoiner({
        serverName: config.server_name,
        signingKey: federation.identity.signingKey,
        client: federation.client,
        ingest: remoteIngest,
        directory: new FederationDirectory(federation.client),
        partialJoins: partialStateResync,
      }),
    );
    // Knocks on rooms this server is not in: make_knock/send_knock (federation/outbound/remoteKnocker.ts).
    federationRoomPorts.bindKnocker(
      new FederationRemoteKnocker({
        serverName: config.server_name,
        signingKey: federation.identity.signingKey,
        client: federation.client,
        directory: new FederationDirectory(federation.client),
        recorder: writerKnockRecorder(rooms.writer),
      }),
    );
    federationRoomPorts.bindInviter(new FederationRemoteInviter({ client: federation.client, keys: federation.keyRing }));
    // Rejecting invites to (and rescinding knocks on) rooms this server is not in: make_leave/send_leave (federation/outbound/remoteLeaver.ts).
    federationRoomPorts.bindLeaver(
      new FederationRemoteLeaver({
        serverName: config.server_name,
        signingKey: federation.identity.signingKey,
        client: federation.client,
        reader: rooms.reader,
        writer: rooms.writer,
        onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation' }, msg),
      }),
    );
    accountPorts.remoteProfile = new FederationProfiles(federation.client);
    // /messages dir=b past our earliest event: older history from the room's other servers (federation/outbound/backfiller.ts).
    syncModule.pagination.setBackfill(
      new FederationBackfiller({
        reader: rooms.reader,
        client: federation.client,
        ingest: remoteIngest,
        servers: (roomId) => federationSender.joinedServers(roomId),
        gaps: storedGaps(rooms.storage),
        onHistoryPlaced: () => void search.indexer.indexHistory(),
        onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-backfill' }, msg),
      }),
    );
  }
  // OpenID tokens for third-party services (request_token here, federation openid/userinfo above).
  const openIdTokens = new OpenIdTokens({ repo: new OpenIdRepo(db), serverName: config.server_name });
  routes.push(...openIdClientRoutes({ tokens: openIdTokens }));
  const userQuery = new UserQueryAdapter({
    serverName: config.server_name,
    keys: e2ee.service.keys,
    devices: async (userId) =>
      (await accountsModule.devices.listDevices(userId)).map((d) => ({ deviceId: d.deviceId, ...(d.displayName !== undefined ? { displayName: d.displayName } : {}) })),
    streamId: (userId) => e2eeRepo.deviceListPosition(userId),
    openId: openIdTokens,
  });
  federation.addRoutes(
    inboundFederationRoutes({
      serverName: config.server_name,
      signingKey: federation.identity.signingKey,
      reader: rooms.reader,
      ingest: remoteIngest,
      keys: federation.keyRing,
      partialState: partialStateRooms,
      edus: {
        typing: (roomId, userId, typing, timeoutMs) => syncModule.typing.setTyping(userId, userId, roomId, typing, timeoutMs),
        receipt: (roomId, type, userId, eventId, thread) => syncModule.receipts.post(userId, roomId, type, eventId, thread),
        // to-device, device lists, cross-signing keys, presence (federation/serve/inboundEdus.ts).
        other: inboundEduHandler({
          toDevice: e2ee.service.toDevice,
          deviceLists: remoteDeviceLists,
          ...(presence.service ? { presence: presence.service } : {}),
          sharesRoomWithLocal: (userId) => remoteDeviceLists.sharesRoomWithLocal(userId),
          onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-inbound' }, msg),
        }),
      },
      // user/devices, user/keys/query|claim, openid/userinfo (federation/serve/userQueryAdapter.ts).
      users: userQuery,
      // publicRooms and hierarchy for other servers (federation/serve/roomDirectoryAdapter.ts).
      directory: new RoomDirectoryAdapter({ publicRooms: directory.publicRooms, hierarchy: new SpaceHierarchy(rooms.reader), reader: rooms.reader }),
      // Answers of /send kept for a day, so a retry after a restart is not processed again.
      txnResults: new TxnResultsRepo(db),
      // Joins, leaves and knocks accepted as the resident server go on to the room's other servers.
      forward: (roomId, eventId, exclude) =>
        void federationSender
          .joinedServers(roomId)
          .then((ds) => federation.queues.enqueuePdu(ds.filter((d) => !exclude.includes(d)), eventId))
          .catch((err: unknown) => logger.error({ err }, 'federation: forwarding a remote membership event failed')),
      query: {
        profile: async (userId) => ((await new UsersRepo(db).getUser(userId)) ? new StoredProfiles(new UsersRepo(db)).profile(userId) : undefined),
        alias: (alias) => rooms.aliases.resolve(alias).catch(() => undefined),
      },
      onWarning: (msg, extra) => logger.warn({ ...extra, area: 'federation-inbound' }, msg),
    }),
  );
  // Device lists, cross-signing keys and presence of local users go out as EDUs to the servers
  // sharing a room with them (federation/outbound/deviceListSender.ts, presenceSender.ts).
  let resendDeviceLists: (() => Promise<void>) | undefined;
  if (federation.enabled) {
    const sharingServers = serversSharingRoomWith(rooms.reader, (roomId) => federationSender.joinedServers(roomId));
    const deviceListSender = new DeviceListSender({
      serverName: config.server_name,
      devicesOf: async (userId) => (await userQuery.devices(userId)) as unknown as UserDevicesView,
      serversSharingRoomWith: sharingServers,
      repo: new DeviceListOutboxRepo(db),
      changes: (after, upTo, limit) => e2eeRepo.deviceListChanges(after, upTo, limit),
      queues: federation.queues,
      onError: (err, what) => logger.error({ err }, `federation: ${what} failed`),
    });
    e2ee.service.deviceLists.onPublicChange(deviceListSender.changed);
    shutdownHooks.push(() => deviceListSender.idle());
    // Changes whose announcement a crash lost go out once the queues have resumed.
    const upTo = stream.persisted;
    resendDeviceLists = () => deviceListSender.resendPending(upTo);
    if (presence.service) {
      const presenceSender = new PresenceSender({
        serversSharingRoomWith: sharingServers,
        queues: federation.queues,
        onError: (err, what) => logger.error({ err }, `federation: ${what} failed`),
      });
      presence.service.onLocalChange(presenceSender.changed);
      shutdownHooks.push(() => presenceSender.flush());
    }
  }
  routes.push(...federation.routesToMount());
  afterListening.push(() => federation.start());
  if (federation.enabled) {
    const outboundCatchUp = new OutboundCatchUp({
      cursor: new FederationOutboxRepo(db),
      reader: rooms.reader,
      persistedStream: () => stream.persisted,
      watermark: outboxWatermark,
      enqueue: (e) => federationSender.enqueueEvent(e),
      idle: () => federationSender.idle(),
      onError: (err, what) => logger.error({ err }, `federation: ${what} failed`),
    });
    afterListening.push(async () => {
      await outboundCatchUp.start();
      await resendDeviceLists?.().catch((err: unknown) => logger.error({ err }, 'federation: re-sending device-list updates failed'));
    });
    // After rooms.drain (registered earlier): every event written has reached the sender.
    shutdownHooks.push(() => outboundCatchUp.stop());
  }
  // ───────────────────────────────────────────────────────────────────────────
  // Once every port is plugged in: finish deactivations that a stop interrupted (never rejects).
  void accountsModule.accounts.resumePendingDeactivations();

  if (config.registration.open) {
    logger.warn(
      '!!! OPEN REGISTRATION IS ON: anyone who can reach this server can create an account. ' +
        'Use it for local trials only; set registration.open: false (or use a config file) for real deployments. !!!',
    );
  }
  const rateLimiter = config.rate_limit.enabled
    ? new RateLimiter({
        message: { perSecond: config.rate_limit.message.per_second, burst: config.rate_limit.message.burst },
        login: { perSecond: config.rate_limit.login.per_second, burst: config.rate_limit.login.burst },
        register: { perSecond: config.rate_limit.register.per_second, burst: config.rate_limit.register.burst },
        general: { perSecond: config.rate_limit.general.per_second, burst: config.rate_limit.general.burst },
      })
    : undefined;
  const app = createApp({
    // r0 paths of the v3 endpoints the r0 API had, for older clients (http/r0Aliases.ts).
    routes: withR0Aliases(routes),
    authenticator,
    serverAuthenticator: federation.serverAuthenticator,
    rateLimiter,
    logger,
    allowQueryToken: config.allow_access_token_in_query,
  });

  const servers: Server[] = [];
  // Responses not yet finished; once stopping, each says `Connection: close` so that kept-alive
  // clients cannot keep sending new requests on their connection after the listener closed.
  const pending = new Set<ServerResponse>();
  let stopping = false;
  let drained: (() => void) | undefined;
  for (const l of config.listeners) {
    const { host, port } = parseBind(l.bind);
    const server: Server = l.tls_cert
      ? createHttpsServer({ cert: readFileSync(l.tls_cert), key: readFileSync(l.tls_key ?? '') }, app)
      : createHttpServer(app);
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      pending.add(res);
      if (stopping && !res.headersSent) res.setHeader('Connection', 'close');
      res.on('close', () => {
        pending.delete(res);
        if (pending.size === 0) drained?.();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Node's default accept backlog (511) overflows when thousands of /sync clients (re)connect at
      // once (measured: connections stuck in SYN-RECV for seconds, some reset); the kernel caps it at somaxconn.
      server.listen({ port, host, backlog: 4096 }, () => resolve());
    });
    servers.push(server);
    logger.info({ listen: l.bind, tls: Boolean(l.tls_cert), server_name: config.server_name }, 'listening');
  }
  for (const start of afterListening) await start();

  return {
    addresses: () => config.listeners.map((l) => l.bind),
    async stop() {
      stopping = true;
      for (const s of servers) s.close();
      for (const res of pending) if (!res.headersSent) res.setHeader('Connection', 'close');
      // Long-polls and other waits are released first, so that in-flight requests can end.
      for (const hook of releaseHooks) hook();
      if (pending.size > 0) {
        await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => setTimeout(r, 10_000))]);
      }
      for (const s of servers) s.closeAllConnections();
      // Then writers drain and background consumers (federation, push, search…) finish before the database closes.
      for (const hook of shutdownHooks) await hook();
      await db.close();
      logger.info('stopped');
    },
  };
}
