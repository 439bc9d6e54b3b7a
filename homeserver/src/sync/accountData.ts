// Per-user account data, global and per room. Every change takes a stream position
// and wakes the owner's /sync. Spec: client-server-api/modules/account_data.md
// "Client Config"; data/api/client-server/account-data.yaml.
import { isValidRoomId } from '@parley/federation/core/ids';
import { MatrixError, forbidden, invalidParam, notFound } from '../http/errors.js';
import type { AccountDataEntry, AccountDataRepo } from '../storage/accountDataRepo.js';
import { KeyedLock } from '../util/keyedLock.js';
import { StreamChangeCache } from './changeCache.js';
import type { ChangeKeys } from './notifier.js';
import type { StreamPositions } from './ports.js';

/** Types the server manages; clients may read but not set them (account_data.md "Server Behaviour"). */
const SERVER_MANAGED = new Set(['m.fully_read', 'm.push_rules']);

export interface AccountDataDeps {
  repo: AccountDataRepo;
  stream: StreamPositions;
  notifier: { notify(pos: number, changed: ChangeKeys): void };
}

/**
 * Told of each change twice: when it is staged and once it is durable, both before its position
 * is readable (caches of account data, e.g. the ignore list, drop their entry each time).
 */
export type AccountDataListener = (userId: string, roomId: string, type: string) => void;

export class AccountDataService {
  private readonly lock = new KeyedLock();
  /** Users whose account data changed: a /sync of a user with none since its token reads nothing. */
  private readonly changes: StreamChangeCache;
  private readonly listeners: AccountDataListener[] = [];

  constructor(private readonly deps: AccountDataDeps) {
    this.changes = new StreamChangeCache(deps.stream.persisted);
  }

  onChange(listener: AccountDataListener): void {
    this.listeners.push(listener);
  }

  /** GET /user/{userId}[/rooms/{roomId}]/account_data/{type} on behalf of `requester`. */
  async getForClient(requester: string, userId: string, roomId: string | undefined, type: string): Promise<Record<string, unknown>> {
    checkAccess(requester, userId, roomId);
    const rec = await this.deps.repo.get(userId, roomId ?? '', type);
    if (!rec) throw notFound('Account data not found');
    return rec.content;
  }

  /** PUT /user/{userId}[/rooms/{roomId}]/account_data/{type} on behalf of `requester`. */
  async setForClient(
    requester: string,
    userId: string,
    roomId: string | undefined,
    type: string,
    content: Record<string, unknown>,
  ): Promise<void> {
    checkAccess(requester, userId, roomId);
    // account-data.yaml: 405 with M_BAD_JSON for server-managed types.
    if (SERVER_MANAGED.has(type)) {
      throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API`);
    }
    await this.set(userId, roomId, type, content);
  }

  /** Set account data without client checks (used for m.fully_read, m.push_rules, tags…). Returns its position. */
  set(userId: string, roomId: string | undefined, type: string, content: Record<string, unknown>): Promise<number> {
    const room = roomId ?? '';
    return this.lock.run(`${userId}\u0000${room}\u0000${type}`, () =>
      this.deps.stream.run(async (pos) => {
        const previous = await this.deps.repo.get(userId, room, type);
        this.changes.record(userId, pos);
        for (const l of this.listeners) l(userId, room, type);
        await this.deps.repo.put(userId, { roomId: room, type, content, stream: pos }, previous);
        for (const l of this.listeners) l(userId, room, type);
        this.deps.notifier.notify(pos, { users: [userId] });
        return pos;
      }),
    );
  }

  async get(userId: string, roomId: string | undefined, type: string): Promise<Record<string, unknown> | undefined> {
    return (await this.deps.repo.get(userId, roomId ?? '', type))?.content;
  }

  /** All of one room's account data up to `upTo` (a room newly joined in an incremental sync). */
  async ofRoomForSync(userId: string, roomId: string, upTo: number): Promise<AccountDataEntry[]> {
    return (await this.deps.repo.ofRoom(userId, roomId)).filter((e) => e.stream <= upTo);
  }

  /** Everything of the user up to `upTo` (initial sync), or what changed in (since, upTo]. */
  async forSync(userId: string, since: number | undefined, upTo: number): Promise<AccountDataEntry[]> {
    if (since === undefined) return (await this.deps.repo.all(userId)).filter((e) => e.stream <= upTo);
    if (since >= upTo || !this.changes.mayHaveChangedSince(userId, since)) return [];
    return this.deps.repo.since(userId, since, upTo);
  }
}

function checkAccess(requester: string, userId: string, roomId: string | undefined): void {
  if (requester !== userId) throw forbidden('Cannot access account data of other users');
  if (roomId !== undefined && !isValidRoomId(roomId)) throw invalidParam(`Invalid room ID: ${roomId}`);
}
