// POST /_synapse/admin/v1/user/{userId}/redact: redact a user's events in some or all of
// their rooms, in the background (Synapse 1.116 semantics). Local users' events are
// redacted by the user themselves (puppeted) unless `use_admin`; remote users' by the
// admin. Parley goes one step further than Synapse: when the user may no longer redact
// (e.g. they left the room on deactivation), the admin's redaction is tried before the
// event is reported as failed.
import { serverNameOf } from '@parley/federation/core/ids';
import type { Requester } from '../http/route.js';
import type { EventService } from '../rooms/eventService.js';
import type { RoomReader } from '../rooms/types.js';
import { BackgroundTasks, type Task } from './backgroundTasks.js';

export interface RedactRequest {
  /** Empty: every room the user has a membership in. */
  rooms: string[];
  reason?: string;
  /** Events of the user looked at per room, newest first (Synapse default 1000). */
  limit: number;
  useAdmin: boolean;
  afterTs?: number;
  beforeTs?: number;
}

export interface RedactResult {
  /** event ID → why it could not be redacted. */
  failed_redactions: Record<string, string>;
}

const PAGE = 200;

export class UserRedaction {
  readonly tasks: BackgroundTasks<RedactResult>;

  constructor(
    private readonly deps: { reader: RoomReader; events: Pick<EventService, 'redact'>; serverName: string; onError: (err: unknown, what: string) => void },
  ) {
    this.tasks = new BackgroundTasks(deps.onError);
  }

  start(admin: Requester, userId: string, req: RedactRequest): Task<RedactResult> {
    return this.tasks.start(userId, { failed_redactions: {} }, (task) => this.run(task, admin, userId, req));
  }

  private async run(task: Task<RedactResult>, admin: Requester, userId: string, req: RedactRequest): Promise<void> {
    const { reader, events, serverName } = this.deps;
    const rooms = req.rooms.length > 0 ? req.rooms : (await reader.roomsOfUser(userId)).map((r) => r.roomId);
    const local = serverNameOf(userId) === serverName;
    const puppet: Requester = { userId, deviceId: 'admin-redact', isAdmin: false };
    for (const roomId of rooms) {
      let seen = 0;
      let upTo: number | undefined;
      // Newest first, looking at up to `limit` of the user's events.
      while (seen < req.limit) {
        const page = await reader.timeline(roomId, { dir: 'b', limit: PAGE, ...(upTo !== undefined ? { upTo } : {}) });
        if (page.length === 0) break;
        upTo = page[page.length - 1].stream - 1;
        for (const ev of page) {
          if (ev.pdu.sender !== userId || seen >= req.limit) continue;
          seen++;
          // Redactions, already redacted events and state (membership, power…) are left as they are.
          if (ev.redactedBy || ev.pdu.type === 'm.room.redaction' || ev.pdu.state_key !== undefined) continue;
          const ts = ev.pdu.origin_server_ts;
          if ((req.afterTs !== undefined && ts < req.afterTs) || (req.beforeTs !== undefined && ts > req.beforeTs)) continue;
          const txnId = `admin-redact-${task.id}-${ev.eventId}`;
          try {
            if (local && !req.useAdmin) {
              try {
                await events.redact(puppet, roomId, ev.eventId, txnId, req.reason);
                continue;
              } catch {
                // The user may not redact any more: fall through to the admin.
              }
            }
            await events.redact(admin, roomId, ev.eventId, txnId, req.reason);
          } catch (err) {
            task.result.failed_redactions[ev.eventId] = err instanceof Error ? err.message : String(err);
          }
        }
        if (upTo <= 0) break;
      }
    }
  }
}
