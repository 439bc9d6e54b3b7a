// Users erased on deactivation (`erase: true`). Synapse semantics: their events stay
// visible to whoever was in the room when they were sent, and are served redacted to
// everyone who joined later (rooms/visibility.ts applies that). Erased users are few,
// so the set is held in memory, loaded once at start; storage is the source of truth.
// Spec: client-server-api/_index.md "Account deactivation" (`erase`).
import type { ErasureLookup } from '../rooms/visibility.js';
import type { UsersRepo } from '../storage/usersRepo.js';


export class ErasedUsers implements ErasureLookup {
  private constructor(private readonly set: Set<string>) {}

  static async load(users: Pick<UsersRepo, 'erasedUsers'>): Promise<ErasedUsers> {
    return new ErasedUsers(new Set(await users.erasedUsers()));
  }

  /** No one erased (tests, tools that do not serve events). */
  static empty(): ErasedUsers {
    return new ErasedUsers(new Set());
  }

  isErased(userId: string): boolean {
    return this.set.has(userId);
  }

  /** Call once the erasure is durable. */
  erased(userId: string): void {
    this.set.add(userId);
  }

  /** An admin re-activated the account: their later events are theirs again. */
  unerased(userId: string): void {
    this.set.delete(userId);
  }
}
