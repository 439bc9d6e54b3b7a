// Reporting content: events, rooms and users, stored for the server's admins.
// Spec: client-server-api/modules/report_content.md "Server behaviour" (an event report
// needs the reporter joined to the room; room and user reports must not); report_content.yaml
// (404 for unknown or invisible events and unknown rooms; user reports answer 200 whatever
// the user, so that they reveal nothing).
import { notFound } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { ReportsRepo } from '../storage/reportsRepo.js';

export interface ReportDeps {
  repo: Pick<ReportsRepo, 'add'>;
  reader: Pick<RoomReader, 'getEvent' | 'membership' | 'roomVersion'>;
  visible(userId: string, roomId: string, events: StoredEvent[]): Promise<StoredEvent[]>;
  now?: () => number;
}

export class ReportService {
  constructor(private readonly deps: ReportDeps) {}

  async reportEvent(reporter: string, roomId: string, eventId: string, reason: string | undefined, score: number | undefined): Promise<void> {
    const { reader } = this.deps;
    const gone = () => notFound('The event was not found or you are not joined to the room');
    if ((await reader.membership(roomId, reporter))?.membership !== 'join') throw gone();
    const ev = await reader.getEvent(eventId);
    if (!ev || ev.roomId !== roomId || ev.outlier || (await this.deps.visible(reporter, roomId, [ev])).length === 0) throw gone();
    await this.store({ kind: 'event', roomId, eventId, reporter, ...opt('reason', reason), ...opt('score', score) });
  }

  async reportRoom(reporter: string, roomId: string, reason: string | undefined): Promise<void> {
    if ((await this.deps.reader.roomVersion(roomId)) === undefined) throw notFound('The room was not found');
    await this.store({ kind: 'room', roomId, reporter, ...opt('reason', reason) });
  }

  async reportUser(reporter: string, userId: string, reason: string | undefined): Promise<void> {
    await this.store({ kind: 'user', userId, reporter, ...opt('reason', reason) });
  }

  private async store(r: Parameters<ReportsRepo['add']>[0]): Promise<void> {
    // Durable before the 200.
    await this.deps.repo.add(r, (this.deps.now ?? Date.now)());
  }
}

function opt<K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, V>);
}
