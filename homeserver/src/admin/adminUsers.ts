// The user side of the Synapse-compatible admin API: list, query, create or modify,
// deactivate, reset password, admin flag, whois. Shapes follow Synapse's user admin API
// (docs/admin_api/user_admin_api.md); the work is done by the accounts services.
import { serverNameOf } from '@parley/federation/core/ids';
import { invalidParam, notFound } from '../http/errors.js';
import type { DeviceRecord } from '../storage/devicesRepo.js';
import type { Profile, UserRecord, UsersRepo } from '../storage/usersRepo.js';
import type { AccountService } from '../users/accountService.js';
import type { DeviceManager } from '../users/devices.js';
import type { ProfileService } from '../users/profiles.js';

/** A user as the admin API shows it. */
export type AdminUserView = Record<string, unknown> & { name: string };

export const USER_ORDERS = ['name', 'is_guest', 'admin', 'user_type', 'deactivated', 'shadow_banned', 'displayname', 'avatar_url', 'creation_ts', 'last_seen_ts'] as const;
export type UserOrder = (typeof USER_ORDERS)[number];

export interface UserListQuery {
  from: number;
  limit: number;
  userIdContains?: string;
  /** Localpart or displayname contains (case-insensitive). */
  name?: string;
  admins?: boolean;
  includeDeactivated: boolean;
  orderBy: UserOrder;
  dir: 'f' | 'b';
}

export interface UserChanges {
  password?: string;
  logout_devices?: boolean;
  displayname?: string | null;
  avatar_url?: string | null;
  admin?: boolean;
  deactivated?: boolean;
}

export interface AdminUsersDeps {
  users: UsersRepo;
  accounts: AccountService;
  devices: DeviceManager;
  profiles: ProfileService;
  serverName: string;
}

export class AdminUsers {
  constructor(private readonly deps: AdminUsersDeps) {}

  /** GET /_synapse/admin/v2/users: the whole list is built and sorted in memory (admin-only, rare). */
  async list(q: UserListQuery): Promise<{ users: AdminUserView[]; next_token?: string; total: number }> {
    const all = await this.deps.users.allUsers();
    const profiles = await this.deps.users.getProfiles(all.map((u) => u.userId));
    const needle = q.name?.toLowerCase();
    const rows = all.map((u, i) => ({ ...u, profile: profiles[i] ?? {} })).filter(({ userId, user, profile }) => {
      if (!q.includeDeactivated && user.deactivated) return false;
      if (q.admins !== undefined && user.admin !== q.admins) return false;
      if (needle !== undefined) {
        const localpart = userId.slice(1, userId.indexOf(':')).toLowerCase();
        return localpart.includes(needle) || (profile.displayname ?? '').toLowerCase().includes(needle);
      }
      return q.userIdContains === undefined || userId.includes(q.userIdContains);
    });
    const lastSeen = q.orderBy === 'last_seen_ts' ? await this.lastSeenOf(rows.map((r) => r.userId)) : new Map<string, number>();
    const views = rows.map((r) => this.view(r.userId, r.user, r.profile, lastSeen.get(r.userId)));
    const sortKey = (v: AdminUserView): string | number => {
      const x = v[q.orderBy];
      return typeof x === 'boolean' ? Number(x) : typeof x === 'number' || typeof x === 'string' ? x : '';
    };
    views.sort((a, b) => {
      const ka = sortKey(a);
      const kb = sortKey(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : 0;
      // Ties are broken by ascending name, whatever the direction (Synapse).
      return (q.dir === 'b' ? -c : c) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    });
    const page = views.slice(q.from, q.from + q.limit);
    const next = q.from + q.limit < views.length ? String(q.from + page.length) : undefined;
    return { users: page, ...(next !== undefined ? { next_token: next } : {}), total: views.length };
  }

  /** GET /_synapse/admin/v2/users/{userId}. */
  async query(userId: string): Promise<AdminUserView> {
    const user = await this.deps.users.getUser(userId);
    if (!user) throw notFound('User not found');
    const profile = (await this.deps.users.getProfile(userId)) ?? {};
    const devices = await this.deps.devices.listDevices(userId);
    return { ...this.view(userId, user, profile, latestSeen(devices)), threepids: [], external_ids: [] };
  }

  /** PUT /_synapse/admin/v2/users/{userId}: create (201) or modify (200). */
  async upsert(adminId: string, userId: string, c: UserChanges): Promise<{ created: boolean; user: AdminUserView }> {
    const localpart = this.localLocalpart(userId);
    const { accounts, profiles } = this.deps;
    const existing = await this.deps.users.getUser(userId);
    if (!existing) {
      await accounts.register({
        localpart,
        ...(c.password !== undefined ? { password: c.password } : {}),
        admin: c.admin ?? false,
        displayname: c.displayname || localpart,
      });
      if (c.avatar_url) await profiles.setField(userId, userId, 'avatar_url', c.avatar_url);
      if (c.deactivated) await accounts.deactivate(userId);
      return { created: true, user: await this.query(userId) };
    }
    if (c.admin === false && userId === adminId && existing.admin) throw invalidParam('You may not demote yourself.');
    if (c.deactivated === false && existing.deactivated) {
      // Synapse: a password is needed to bring a deactivated account back.
      if (c.password === undefined) throw invalidParam('Must provide a password to re-activate an account.');
      await accounts.reactivate(userId, c.password);
    } else if (c.password !== undefined && !existing.deactivated && c.deactivated !== true) {
      await accounts.resetPassword(userId, c.password, c.logout_devices ?? true);
    }
    // Profile changes are made as the user would make them (the same propagation into rooms).
    if (c.displayname !== undefined) await profiles.setField(userId, userId, 'displayname', c.displayname ?? '');
    if (c.avatar_url !== undefined) await profiles.setField(userId, userId, 'avatar_url', c.avatar_url ?? '');
    if (c.admin !== undefined) await accounts.setAdmin(userId, c.admin);
    if (c.deactivated === true && !existing.deactivated) await accounts.deactivate(userId);
    return { created: false, user: await this.query(userId) };
  }

  /** POST /_synapse/admin/v1/deactivate/{userId}. */
  async deactivate(userId: string, erase: boolean): Promise<void> {
    this.localLocalpart(userId);
    if (!(await this.deps.users.getUser(userId))) throw notFound('User not found');
    await this.deps.accounts.deactivate(userId, { erase });
  }

  /** POST /_synapse/admin/v1/reset_password/{userId}. */
  async resetPassword(userId: string, newPassword: string, logoutDevices: boolean): Promise<void> {
    this.localLocalpart(userId);
    await this.deps.accounts.resetPassword(userId, newPassword, logoutDevices);
  }

  async isAdmin(userId: string): Promise<boolean> {
    this.localLocalpart(userId);
    const user = await this.deps.users.getUser(userId);
    if (!user) throw notFound('User not found');
    return user.admin;
  }

  async setAdmin(adminId: string, userId: string, admin: boolean): Promise<void> {
    this.localLocalpart(userId);
    if (userId === adminId && !admin) throw invalidParam('You may not demote yourself.');
    await this.deps.accounts.setAdmin(userId, admin);
  }

  /** GET /_synapse/admin/v1/whois/{userId} (and the spec's /admin/whois): one session per device. */
  async whois(userId: string): Promise<Record<string, unknown>> {
    this.localLocalpart(userId);
    if (!(await this.deps.users.getUser(userId))) throw notFound('User not found');
    const devices: Record<string, unknown> = {};
    for (const d of await this.deps.devices.listDevicesSeen(userId)) {
      const connections =
        d.lastSeenTs === undefined
          ? []
          : [{ ip: d.lastSeenIp ?? null, last_seen: d.lastSeenTs, user_agent: d.lastSeenUserAgent ?? null }];
      devices[d.deviceId] = { sessions: [{ connections }] };
    }
    return { user_id: userId, devices };
  }

  /** The localpart of a local user ID; 400 for anything else (Synapse: only local users). */
  private localLocalpart(userId: string): string {
    const colon = userId.indexOf(':');
    if (!userId.startsWith('@') || colon < 2) throw invalidParam('Invalid user ID');
    if (serverNameOf(userId) !== this.deps.serverName) throw invalidParam('This endpoint can only be used with local users');
    return userId.slice(1, colon);
  }

  private async lastSeenOf(userIds: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of userIds) {
      const t = latestSeen(await this.deps.devices.listDevices(id));
      if (t !== undefined) out.set(id, t);
    }
    return out;
  }

  private view(userId: string, user: UserRecord, profile: Profile, lastSeenTs: number | undefined): AdminUserView {
    return {
      name: userId,
      displayname: profile.displayname ?? null,
      avatar_url: profile.avatar_url ?? null,
      is_guest: false,
      admin: user.admin,
      deactivated: user.deactivated,
      erased: this.deps.accounts.isErased(userId),
      shadow_banned: false,
      locked: false,
      suspended: false,
      user_type: null,
      appservice_id: null,
      creation_ts: user.createdTs,
      last_seen_ts: lastSeenTs ?? null,
    };
  }
}

function latestSeen(devices: DeviceRecord[]): number | undefined {
  const ts = devices.map((d) => d.lastSeenTs).filter((t): t is number => t !== undefined);
  return ts.length === 0 ? undefined : Math.max(...ts);
}
