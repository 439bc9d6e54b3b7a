// Profiles (owned by the accounts service) as the room service reads them: the
// displayname and avatar_url that membership events carry.
import type { ProfileLookup } from '../rooms/ports.js';
import type { UsersRepo } from './usersRepo.js';

export class StoredProfiles implements ProfileLookup {
  constructor(private readonly users: UsersRepo) {}

  async profile(userId: string): Promise<{ displayname?: string; avatar_url?: string }> {
    const p = await this.users.getProfile(userId);
    return {
      ...(typeof p?.displayname === 'string' ? { displayname: p.displayname } : {}),
      ...(typeof p?.avatar_url === 'string' ? { avatar_url: p.avatar_url } : {}),
    };
  }
}
