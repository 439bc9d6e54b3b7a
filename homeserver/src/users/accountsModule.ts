// Builds the accounts area (accounts, devices and tokens, profiles, UIA,
// shared-secret registration) and its routes, for main.ts to mount.
import type { Logger } from 'pino';
import { accountRoutes } from '../api/client/account.js';
import { deviceRoutes } from '../api/client/devices.js';
import { loginRoutes } from '../api/client/login.js';
import { profileRoutes } from '../api/client/profile.js';
import { registrationRoutes } from '../api/client/registration.js';
import { sharedSecretRoutes } from '../api/admin/sharedSecretRegistration.js';
import { UserInteractiveAuth } from '../auth/uia.js';
import { dummyStage, passwordStage } from '../auth/uiaStages.js';
import type { Route } from '../http/route.js';
import type { Database } from '../storage/db.js';
import { DevicesRepo } from '../storage/devicesRepo.js';
import { UsersRepo } from '../storage/usersRepo.js';
import { RegistrationTokensRepo } from '../storage/registrationTokensRepo.js';
import { RegistrationTokens } from '../admin/registrationTokens.js';
import { ErasedUsers } from './erasedUsers.js';
import { AccountService } from './accountService.js';
import { DeviceManager } from './devices.js';
import { qualifyUser } from './localpart.js';
import { PasswordHasher, type ScryptCost } from './password.js';
import type { AccountPorts } from './ports.js';
import { ProfileService } from './profiles.js';
import { NonceStore } from './sharedSecret.js';

export interface AccountsConfig {
  serverName: string;
  registration: { open: boolean; shared_secret?: string; requires_token?: boolean };
  /** New hashes' cost (config password_hashing.scrypt_log_n); lower only in tests and benchmarks. */
  scryptCost?: ScryptCost;
  /** Hashes computed at once (config password_hashing.max_concurrent). */
  maxConcurrentHashes?: number;
}

export interface AccountsModule {
  /** The Authenticator for http/app.ts. */
  accounts: AccountService;
  devices: DeviceManager;
  profiles: ProfileService;
  uia: UserInteractiveAuth;
  /** Registration tokens (admin API and the m.login.registration_token stage). */
  registrationTokens: RegistrationTokens;
  /** Users erased on deactivation, for event serving (rooms/visibility.ts). */
  erased: ErasedUsers;
  routes: Route<unknown, unknown>[];
}

export function createAccountsModule(
  db: Database,
  config: AccountsConfig,
  ports: AccountPorts,
  logger: Logger,
  /** Loaded by the caller (ErasedUsers.load) before serving; empty when absent. */
  opts: { erased?: ErasedUsers } = {},
): AccountsModule {
  const { serverName } = config;
  const users = new UsersRepo(db);
  const erased = opts.erased ?? ErasedUsers.empty();
  const devices = new DeviceManager(new DevicesRepo(db), users, ports, logger);
  const accounts = new AccountService(users, devices, new PasswordHasher(config.scryptCost, config.maxConcurrentHashes), ports, serverName, logger, erased);
  const registrationTokens = new RegistrationTokens(new RegistrationTokensRepo(db));
  const profiles = new ProfileService(users, devices, ports, serverName, logger);
  const uia = new UserInteractiveAuth([
    dummyStage,
    passwordStage({
      qualifyUser: (u) => qualifyUser(u, serverName),
      verifyPassword: (userId, password) => accounts.verifyPassword(userId, password),
    }),
    registrationTokens.stage(),
  ]);
  const routes = [
    ...registrationRoutes({
      accounts,
      uia,
      open: config.registration.open,
      serverName,
      tokens: { service: registrationTokens, required: config.registration.requires_token === true },
    }),
    ...loginRoutes({ accounts, serverName }),
    ...accountRoutes({ accounts, uia }),
    ...deviceRoutes({ devices, uia }),
    ...profileRoutes({ profiles }),
    ...sharedSecretRoutes({ accounts, nonces: new NonceStore(), secret: config.registration.shared_secret, serverName }),
  ];
  return { accounts, devices, profiles, uia, registrationTokens, erased, routes };
}
