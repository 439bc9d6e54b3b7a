// Local accounts: registration, password login, logout, password change,
// deactivation. Tokens and devices are the DeviceManager's; this service decides
// who may get one. Every change is one atomic batch, written before replying.
// Spec: client-server-api/_index.md "Account registration", "Login", "Account management";
// registration.yaml, login.yaml, logout.yaml, password_management.yaml, account_deactivation.yaml.
import type { Logger } from 'pino';
import type { Authenticator } from '../http/app.js';
import { forbidden, invalidParam, invalidUsername, notFound, userDeactivated, userInUse } from '../http/errors.js';
import type { Requester } from '../http/route.js';
import type { BatchOp } from '../storage/db.js';
import type { UserRecord, UsersRepo } from '../storage/usersRepo.js';
import type { DeviceManager, NewSessionOptions } from './devices.js';
import { ErasedUsers } from './erasedUsers.js';
import { localpartProblem, qualifyUser } from './localpart.js';
import { MAX_PASSWORD_LENGTH, type PasswordHasher } from './password.js';
import type { AccountPorts } from './ports.js';

export interface RegisterOptions {
  /** Desired localpart (already lower-cased); generated when absent. */
  localpart?: string;
  /** Plain password, or `passwordHash` when it was hashed earlier (e.g. in a UIA session). */
  password?: string;
  passwordHash?: string;
  admin?: boolean;
  /** Initial profile displayname; the localpart when absent (as Synapse). */
  displayname?: string;
  /** Log the new user in with this device; no login when undefined (`inhibit_login`). */
  login?: NewSessionOptions;
  /** Written in the same batch as the account (e.g. the registration token's use). */
  extraOps?: BatchOp[];
}

export interface Registered {
  userId: string;
  /** Present unless login was inhibited. */
  accessToken?: string;
  deviceId?: string;
}

export interface LoggedIn {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export class AccountService implements Authenticator {
  /** Next generated numeric localpart, loaded from storage on first use. */
  private nextNumeric = 1;
  private numericLoaded: Promise<void> | undefined;

  constructor(
    private readonly users: UsersRepo,
    private readonly devices: DeviceManager,
    private readonly hasher: PasswordHasher,
    private readonly ports: AccountPorts,
    private readonly serverName: string,
    private readonly logger: Logger,
    private readonly erased: ErasedUsers = ErasedUsers.empty(),
  ) {}

  async authenticate(accessToken: string, seen?: { ip: string; userAgent?: string }): Promise<Requester | undefined> {
    const requester = await this.devices.authenticate(accessToken);
    if (requester && seen) this.devices.noteSeen(requester, seen);
    return requester;
  }

  whoami(requester: Requester): { user_id: string; device_id: string; is_guest: false } {
    return { user_id: requester.userId, device_id: requester.deviceId, is_guest: false };
  }

  userIdOf(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  /** Throws M_INVALID_USERNAME or M_USER_IN_USE unless the localpart could be registered now. */
  async checkUsername(localpart: string): Promise<string> {
    const problem = localpartProblem(localpart, this.serverName);
    if (problem) throw invalidUsername(problem);
    const userId = this.userIdOf(localpart);
    // Deactivated accounts keep their name: reusing it would hand their rooms' history to someone else.
    if (await this.users.getUser(userId)) throw userInUse();
    return userId;
  }

  hashPassword(password: string): Promise<string> {
    checkPassword(password);
    return this.hasher.hash(password);
  }

  async register(opts: RegisterOptions): Promise<Registered> {
    const passwordHash = opts.passwordHash ?? (opts.password !== undefined ? await this.hashPassword(opts.password) : undefined);
    let generated: number | undefined;
    let localpart = opts.localpart;
    if (localpart === undefined) {
      generated = await this.generateLocalpart();
      localpart = String(generated);
    } else {
      await this.checkUsername(localpart);
    }
    const userId = this.userIdOf(localpart);
    return this.devices.withUserLock(userId, async () => {
      // Checked again under the lock: someone may have taken the name meanwhile.
      if (await this.users.getUser(userId)) throw userInUse();
      const user: UserRecord = { admin: opts.admin ?? false, deactivated: false, createdTs: Date.now() };
      if (passwordHash !== undefined) user.passwordHash = passwordHash;
      const ops: BatchOp[] = [
        this.users.putUser(userId, user),
        this.users.putProfile(userId, { displayname: opts.displayname ?? localpart }),
      ];
      if (generated !== undefined) ops.push(this.users.putLastGeneratedLocalpart(generated));
      if (opts.extraOps) ops.push(...opts.extraOps);
      const session = opts.login ? await this.devices.planSession(userId, opts.login) : undefined;
      if (session) ops.push(...session.ops);
      await this.users.write(ops);
      if (session) this.devices.sessionWritten(session);
      return session ? { userId, accessToken: session.accessToken, deviceId: session.deviceId } : { userId };
    }).then(async (res) => {
      if (res.deviceId) await this.devices.announceDevice(userId, res.deviceId);
      return res;
    });
  }

  /** A new session for an existing, active user (no password check: the caller authenticated them). */
  async newSession(userId: string, opts: NewSessionOptions): Promise<LoggedIn> {
    return this.devices.withUserLock(userId, async () => {
      const user = await this.users.getUser(userId);
      if (!user) throw forbidden('Unknown user');
      if (user.deactivated) throw userDeactivated();
      const session = await this.devices.planSession(userId, opts);
      await this.users.write(session.ops);
      this.devices.sessionWritten(session);
      return { userId, accessToken: session.accessToken, deviceId: session.deviceId };
    }).then(async (res) => {
      await this.devices.announceDevice(userId, res.deviceId);
      return res;
    });
  }

  /**
   * m.login.password. `user` is what the client typed: a localpart or a full user ID.
   * Unknown users and wrong passwords look the same (403 M_FORBIDDEN).
   */
  async login(user: string, password: string, opts: NewSessionOptions): Promise<LoggedIn> {
    const userId = qualifyUser(user, this.serverName);
    const result = userId ? await this.verifyPassword(userId, password) : await this.hasher.verifyNothing(password);
    if (result === 'deactivated') throw userDeactivated();
    if (result !== true || !userId) throw forbidden('Invalid username or password');
    return this.newSession(userId, opts);
  }

  /**
   * Check a user's password. Deactivated accounts have no password left, so they
   * are reported as such without a check (as Synapse).
   */
  async verifyPassword(userId: string, password: string): Promise<boolean | 'deactivated'> {
    const user = await this.users.getUser(userId);
    if (user?.deactivated) return 'deactivated';
    if (!user?.passwordHash) return this.hasher.verifyNothing(password);
    return this.hasher.verify(password, user.passwordHash);
  }

  /** POST /logout: the requesting device and its token are deleted. */
  async logout(requester: Requester): Promise<void> {
    await this.devices.deleteDevices(requester.userId, [requester.deviceId]);
  }

  /** POST /logout/all: every device and token of the user. */
  async logoutAll(userId: string): Promise<void> {
    const plan = await this.devices.withUserLock(userId, async () => {
      const p = await this.devices.planDeleteAll(userId);
      await this.users.write(p.ops);
      return p;
    });
    await this.devices.deletionWritten(plan);
  }

  /**
   * Set a new password; with `logoutDevices` every other device is logged out
   * in the same batch (the requesting one stays, as the spec asks).
   */
  async changePassword(requester: Requester, newPassword: string, logoutDevices: boolean): Promise<void> {
    const hash = await this.hashPassword(newPassword);
    const { userId } = requester;
    const plan = await this.devices.withUserLock(userId, async () => {
      const user = await this.users.getUser(userId);
      if (!user || user.deactivated) throw userDeactivated();
      const p = logoutDevices ? await this.devices.planDeleteAll(userId, requester.deviceId) : undefined;
      await this.users.write([this.users.putUser(userId, { ...user, passwordHash: hash }), ...(p?.ops ?? [])]);
      return p;
    });
    if (plan) await this.devices.deletionWritten(plan);
  }

  /**
   * Deactivate: no password, no devices, no tokens — in one batch with a durable
   * note that the user still has to leave their rooms, which is done right after
   * (and resumed at start if the server stopped in between).
   */
  async deactivate(userId: string, opts: { erase?: boolean } = {}): Promise<void> {
    const plan = await this.devices.withUserLock(userId, async () => {
      const user = await this.users.getUser(userId);
      if (!user) throw forbidden('Unknown user');
      const p = await this.devices.planDeleteAll(userId);
      const { passwordHash: _dropped, ...rest } = user;
      const ops = [
        this.users.putUser(userId, { ...rest, deactivated: true }),
        this.users.putPendingDeactivation(userId, Date.now()),
        ...p.ops,
      ];
      // Synapse's erasure: profile gone, and the user marked erased (see users/erasedUsers.ts).
      if (opts.erase) ops.push(this.users.putProfile(userId, {}), this.users.putErased(userId, Date.now()));
      await this.users.write(ops);
      return p;
    });
    if (opts.erase) this.erased.erased(userId);
    this.devices.forgetCachedUser(userId);
    await this.devices.deletionWritten(plan);
    await this.leaveRooms(userId);
  }

  // ── admin operations (admin API, `parley admin`) ──────────────────────────

  /**
   * Set a user's password for them (admin reset): with `logoutDevices`, every device and
   * token goes in the same batch. Deactivated users stay deactivated (reactivate instead).
   */
  async resetPassword(userId: string, newPassword: string, logoutDevices: boolean): Promise<void> {
    const hash = await this.hashPassword(newPassword);
    const plan = await this.devices.withUserLock(userId, async () => {
      const user = await this.users.getUser(userId);
      if (!user) throw notFound('User not found');
      if (user.deactivated) throw invalidParam('The user is deactivated');
      const p = logoutDevices ? await this.devices.planDeleteAll(userId) : undefined;
      await this.users.write([this.users.putUser(userId, { ...user, passwordHash: hash }), ...(p?.ops ?? [])]);
      return p;
    });
    if (plan) await this.devices.deletionWritten(plan);
  }

  /** Grant or revoke server admin; cached requesters of the user are dropped so it applies at once. */
  async setAdmin(userId: string, admin: boolean): Promise<void> {
    await this.devices.withUserLock(userId, async () => {
      const user = await this.users.getUser(userId);
      if (!user) throw notFound('User not found');
      if (user.admin !== admin) await this.users.write([this.users.putUser(userId, { ...user, admin })]);
    });
    this.devices.forgetCachedUser(userId);
  }

  /** Undo a deactivation (admin API `deactivated: false`); Synapse wants a new password with it. */
  async reactivate(userId: string, newPassword: string): Promise<void> {
    const hash = await this.hashPassword(newPassword);
    await this.devices.withUserLock(userId, async () => {
      const user = await this.users.getUser(userId);
      if (!user) throw notFound('User not found');
      await this.users.write([
        this.users.putUser(userId, { ...user, deactivated: false, passwordHash: hash }),
        this.users.delErased(userId),
        this.users.delPendingDeactivation(userId),
      ]);
    });
    this.erased.unerased(userId);
  }

  isErased(userId: string): boolean {
    return this.erased.isErased(userId);
  }

  /** Finish deactivations interrupted by a stop; called once at start. Logs failures, never rejects. */
  async resumePendingDeactivations(): Promise<void> {
    try {
      for (const userId of await this.users.pendingDeactivations()) await this.leaveRooms(userId);
    } catch (err) {
      this.logger.error({ err }, 'resuming deactivations failed');
    }
  }

  private async leaveRooms(userId: string): Promise<void> {
    try {
      await this.ports.membership.leaveAllRooms(userId);
      await this.users.write([this.users.delPendingDeactivation(userId)]);
    } catch (err) {
      this.logger.error({ err, userId }, 'leaving rooms after deactivation failed; will retry at next start');
    }
  }

  /** The next free numeric localpart (as Synapse's generated user IDs). */
  private async generateLocalpart(): Promise<number> {
    this.numericLoaded ??= this.users.lastGeneratedLocalpart().then((last) => {
      this.nextNumeric = last + 1;
    });
    await this.numericLoaded;
    for (;;) {
      // Taken synchronously, so concurrent registrations never get the same number.
      const n = this.nextNumeric++;
      if (!(await this.users.getUser(this.userIdOf(String(n))))) return n;
    }
  }
}

function checkPassword(password: string): void {
  if (password.length > MAX_PASSWORD_LENGTH) throw invalidParam(`Password is too long (max ${MAX_PASSWORD_LENGTH})`);
}
