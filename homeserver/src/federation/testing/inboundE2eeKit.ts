// Test support: the inbound kit plus real accounts, e2ee, presence and directory modules on
// the same database, with the serving routes wired as main.ts wires them (EDU handlers,
// user/devices and keys, openid, publicRooms, hierarchy) and the remote device-list cache
// in front of the key server's remote queries.
import { pino } from 'pino';
import { createE2eeModule, type E2eeModule } from '../../e2ee/e2eeModule.js';
import { FakeDevice } from '../../e2ee/testKit.js';
import { openIdClientRoutes } from '../../api/client/openid.js';
import { createDirectoryModule, type DirectoryModule } from '../../directory/directoryModule.js';
import { SpaceHierarchy } from '../../messaging/hierarchy.js';
import { createPresenceModule, type PresenceModule } from '../../presence/presenceModule.js';
import { E2eeRepo } from '../../storage/e2eeRepo.js';
import { OpenIdRepo } from '../../storage/openIdRepo.js';
import { RemoteDevicesRepo } from '../../storage/remoteDevicesRepo.js';
import { createAccountsModule, type AccountsModule } from '../../users/accountsModule.js';
import { noopAccountPorts } from '../../users/ports.js';
import { federationRemoteKeys } from '../outbound/remoteKeys.js';
import { inboundEduHandler } from '../serve/inboundEdus.js';
import { inboundFederationRoutes } from '../serve/inboundRoutes.js';
import { OpenIdTokens } from '../serve/openIdTokens.js';
import { cachedRemoteKeys, RemoteDeviceLists } from '../serve/remoteDeviceLists.js';
import { RoomDirectoryAdapter } from '../serve/roomDirectoryAdapter.js';
import { UserQueryAdapter } from '../serve/userQueryAdapter.js';
import { openInboundKit, US, type InboundKit } from './inboundKit.js';

export interface InboundE2eeKit extends InboundKit {
  accounts: AccountsModule;
  e2ee: E2eeModule;
  presence: PresenceModule;
  directory: DirectoryModule;
  remoteDevices: RemoteDeviceLists;
  /** Register a local user on device DEV; the kit's `local(localpart)` token acts for that device. */
  device(localpart: string): Promise<FakeDevice>;
}

export async function withInboundE2ee(fn: (k: InboundE2eeKit) => Promise<void>): Promise<void> {
  const logger = pino({ level: 'silent' });
  let accounts!: AccountsModule;
  let e2ee!: E2eeModule;
  let presence!: PresenceModule;
  let directory!: DirectoryModule;
  let remoteDevices!: RemoteDeviceLists;
  let openId!: OpenIdTokens;
  const k = await openInboundKit({
    routes: (kit) => {
      const ports = noopAccountPorts();
      accounts = createAccountsModule(kit.db, { serverName: US, registration: { open: true }, scryptCost: { N: 1024, r: 8, p: 1 } }, ports, logger);
      const e2eeRepo = new E2eeRepo(kit.db);
      remoteDevices = new RemoteDeviceLists({
        serverName: US,
        repo: new RemoteDevicesRepo(kit.db, (u, pos) => e2eeRepo.deviceListChangeOps(u, pos)),
        deviceLists: { change: (u, write) => e2ee.service.deviceLists.change(u, write) },
        reader: kit.rooms.reader,
        client: kit.net,
      });
      e2ee = createE2eeModule({
        db: kit.db,
        serverName: US,
        stream: kit.stream,
        notifier: kit.sync.notifier,
        rooms: kit.rooms.reader,
        outputs: kit.outputs,
        devices: accounts.devices,
        uia: accounts.uia,
        remote: cachedRemoteKeys(remoteDevices, federationRemoteKeys(kit.net)),
      });
      ports.deviceEvents = e2ee.deviceEvents;
      kit.sync.sync.addExtension(e2ee.service.syncExtension);
      presence = createPresenceModule({
        db: kit.db,
        enabled: true,
        serverName: US,
        reader: kit.rooms.reader,
        outputs: kit.outputs,
        stream: kit.stream,
        notifier: kit.sync.notifier,
        sync: kit.sync.sync,
      });
      directory = createDirectoryModule({
        db: kit.db,
        reader: kit.rooms.reader,
        outputs: kit.outputs,
        serverName: US,
        published: kit.rooms.storage.published,
        profile: async () => ({}),
      });
      openId = new OpenIdTokens({ repo: new OpenIdRepo(kit.db), serverName: US });
      return inboundFederationRoutes({
        serverName: US,
        signingKey: kit.ourKey,
        reader: kit.rooms.reader,
        ingest: kit.ingest,
        keys: kit.fed.keyRing,
        edus: {
          other: inboundEduHandler({
            toDevice: e2ee.service.toDevice,
            deviceLists: remoteDevices,
            presence: presence.service!,
            sharesRoomWithLocal: (u) => remoteDevices.sharesRoomWithLocal(u),
          }),
        },
        users: new UserQueryAdapter({
          serverName: US,
          keys: e2ee.service.keys,
          devices: async (u) => (await accounts.devices.listDevices(u)).map((d) => ({ deviceId: d.deviceId, ...(d.displayName !== undefined ? { displayName: d.displayName } : {}) })),
          streamId: (u) => e2eeRepo.deviceListPosition(u),
          openId,
        }),
        directory: new RoomDirectoryAdapter({ publicRooms: directory.publicRooms, hierarchy: new SpaceHierarchy(kit.rooms.reader), reader: kit.rooms.reader }),
      });
    },
    clientRoutes: () => [...e2ee.routes, ...presence.routes, ...openIdClientRoutes({ tokens: openId })],
  });
  try {
    await fn({
      ...k,
      accounts,
      e2ee,
      presence,
      directory,
      remoteDevices,
      async device(localpart) {
        const tok = k.local(localpart);
        await accounts.accounts.register({ localpart, password: 'pw', login: { deviceId: 'DEV' } });
        return new FakeDevice(tok.userId, 'DEV', tok.token);
      },
    });
  } finally {
    presence.close();
    await k.close();
  }
}
