// Which rooms this server joined with partial state (MSC3706 "faster joins") and are still
// being completed in the background. Loaded once at startup and kept in memory, so /sync and
// the federation sender can ask synchronously; readers that need the full state (the member
// lists) wait for it, as Synapse's PartialStateRoomTracker.await_full_state does.
import type { PartialStateRecord, PartialStateRepo } from '../storage/partialStateRepo.js';

/** The read side other areas get: is a room partial, and wait until it is not. */
export interface PartialStateView {
  isPartial(roomId: string): boolean;
  /** Resolves once the room has its full state (at once if it has it already). */
  awaitFullState(roomId: string): Promise<void>;
  /** servers_in_room of the partial join (empty when the room is not partial). */
  serversInRoom(roomId: string): string[];
  /** The stream position at which a once-partial room got its full state (undefined: never partial, or still). */
  completedAt(roomId: string): number | undefined;
}

export class PartialStateRooms implements PartialStateView {
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly rooms = new Map<string, PartialStateRecord>();
  private readonly completed = new Map<string, number>();

  private constructor(private readonly repo: PartialStateRepo) {}

  static async open(repo: PartialStateRepo): Promise<PartialStateRooms> {
    const self = new PartialStateRooms(repo);
    for (const [roomId, rec] of await repo.all()) {
      if (rec.completedAt === undefined) self.rooms.set(roomId, rec);
      else self.completed.set(roomId, rec.completedAt);
    }
    return self;
  }

  completedAt(roomId: string): number | undefined {
    return this.completed.get(roomId);
  }

  isPartial(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  get(roomId: string): PartialStateRecord | undefined {
    return this.rooms.get(roomId);
  }

  /** Every room still partial (to resume their resyncs at startup). */
  list(): Array<[string, PartialStateRecord]> {
    return [...this.rooms];
  }

  serversInRoom(roomId: string): string[] {
    return this.rooms.get(roomId)?.serversInRoom ?? [];
  }

  awaitFullState(roomId: string): Promise<void> {
    if (!this.rooms.has(roomId)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(roomId) ?? [];
      list.push(resolve);
      this.waiters.set(roomId, list);
    });
  }

  /** Durably mark a room partial (before its join is stored). */
  async mark(roomId: string, rec: PartialStateRecord): Promise<void> {
    const { completedAt: _c, ...partial } = rec;
    await this.repo.put(roomId, partial);
    this.rooms.set(roomId, partial);
    this.completed.delete(roomId);
  }

  /** The room got its full state at stream position `completedAt`: wake whoever waits. */
  async complete(roomId: string, completedAt: number): Promise<void> {
    const rec = this.rooms.get(roomId);
    if (rec) await this.repo.put(roomId, { ...rec, completedAt });
    this.completed.set(roomId, completedAt);
    this.wake(roomId);
  }

  /** The partial join was abandoned (its join was never stored): no trace is kept. */
  async clear(roomId: string): Promise<void> {
    await this.repo.delete(roomId);
    this.wake(roomId);
  }

  private wake(roomId: string): void {
    this.rooms.delete(roomId);
    const list = this.waiters.get(roomId) ?? [];
    this.waiters.delete(roomId);
    for (const w of list) w();
  }

  /** Release every waiter without clearing anything (shutdown: held requests must end). */
  releaseAll(): void {
    const all = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const w of all) w();
  }
}
