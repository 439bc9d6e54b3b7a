// Profiles of local users: displayname and avatar_url. Only the user may change
// their own; everyone may read them. After a change the ProfilePort propagates it
// (Synapse: new m.room.member events in the user's joined rooms).
// Spec: client-server-api/_index.md "Profiles"; profile.yaml.
import { serverNameOf } from '@parley/federation/core/ids';
import type { Logger } from 'pino';
import { forbidden, invalidParam, notFound } from '../http/errors.js';
import type { Profile, UsersRepo } from '../storage/usersRepo.js';
import type { UserLock } from './devices.js';
import type { AccountPorts } from './ports.js';

export type ProfileField = 'displayname' | 'avatar_url';

/** Limits on field length (as Synapse). */
const MAX_LENGTH: Record<ProfileField, number> = { displayname: 256, avatar_url: 1000 };

/** Read access to local profiles, for other services (e.g. membership events carry displayname/avatar). */
export interface ProfileReader {
  /** The stored profile of a local user, or undefined for unknown users. */
  getProfile(userId: string): Promise<Profile | undefined>;
}

export class ProfileService implements ProfileReader {
  constructor(
    private readonly users: UsersRepo,
    private readonly locks: UserLock,
    private readonly ports: AccountPorts,
    private readonly serverName: string,
    private readonly logger: Logger,
  ) {}

  async getProfile(userId: string): Promise<Profile | undefined> {
    if (!(await this.users.getUser(userId))) return undefined;
    return (await this.users.getProfile(userId)) ?? {};
  }

  /** GET /profile/{userId}: 404 for unknown users and for users with an empty profile (as Synapse). */
  async publicProfile(userId: string): Promise<Profile> {
    const p = this.isLocal(userId) ? await this.getProfile(userId) : await this.ports.remoteProfile?.profile(userId);
    if (!p || (p.displayname === undefined && p.avatar_url === undefined)) throw notFound('Profile not found');
    return p;
  }

  /** GET /profile/{userId}/{field}: 404 when the user or the field does not exist. */
  async field(userId: string, field: ProfileField): Promise<string> {
    const p = this.isLocal(userId) ? await this.getProfile(userId) : await this.ports.remoteProfile?.profile(userId);
    if (!p) throw notFound('Profile not found');
    const v = p[field];
    if (v === undefined) throw notFound(`The user has no ${field}`);
    return v;
  }

  /** Set (or, with an empty string, clear) one field of the requester's own profile. */
  async setField(requesterId: string, userId: string, field: ProfileField, value: string): Promise<void> {
    if (requesterId !== userId) throw forbidden(`Cannot set another user's ${field}`);
    if (value.length > MAX_LENGTH[field]) throw invalidParam(`${field} is too long (max ${MAX_LENGTH[field]})`);
    const updated = await this.locks.withUserLock(userId, async () => {
      const current = await this.getProfile(userId);
      if (!current) throw notFound('Profile not found');
      const next: Profile = { ...current };
      if (value === '') delete next[field];
      else next[field] = value;
      if (next[field] === current[field]) return undefined;
      await this.users.write([this.users.putProfile(userId, next)]);
      return next;
    });
    if (!updated) return;
    try {
      await this.ports.profile.profileChanged(userId, updated);
    } catch (err) {
      this.logger.error({ err, userId }, 'profile change propagation failed');
    }
  }

  private isLocal(userId: string): boolean {
    return serverNameOf(userId) === this.serverName;
  }
}
