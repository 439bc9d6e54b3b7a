// Local users' presence to the servers that share a room with them, as m.presence EDUs.
// Changes are gathered for a short while and sent as one EDU per destination carrying
// the latest state of every user that changed (a burst of syncs coming online costs one
// EDU per peer, not one per user). Spec: server-server-api.md "Presence" (m.presence).
import type { JsonObject } from '@parley/federation/core/types';
import type { Edu } from '@parley/federation/ports';
import type { PresenceRecord } from '../../storage/presenceRepo.js';

/** How long changes are gathered before they are queued. */
export const PRESENCE_BATCH_MS = 100;

export interface PresenceSenderDeps {
  serversSharingRoomWith(userId: string): Promise<string[]>;
  queues: { enqueueEdu(destinations: readonly string[], edu: Edu): Promise<void> };
  onError: (err: unknown, what: string) => void;
  now?: () => number;
  batchMs?: number;
}

export class PresenceSender {
  private pending = new Map<string, PresenceRecord>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly d: PresenceSenderDeps) {
    this.now = d.now ?? Date.now;
  }

  /** PresenceService.onLocalChange listener. */
  changed = (userId: string, rec: PresenceRecord): void => {
    this.pending.set(userId, rec);
    this.timer ??= setTimeout(() => void this.flush(), this.d.batchMs ?? PRESENCE_BATCH_MS);
  };

  /** Queue what is gathered now (also on shutdown). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.flushing.then(() => this.send(batch)).catch((err: unknown) => this.d.onError(err, 'queueing presence'));
    return this.flushing;
  }

  private async send(batch: Map<string, PresenceRecord>): Promise<void> {
    if (batch.size === 0) return;
    const byDestination = new Map<string, JsonObject[]>();
    const now = this.now();
    for (const [userId, rec] of batch) {
      const push: JsonObject = {
        user_id: userId,
        presence: rec.state,
        last_active_ago: Math.max(0, now - rec.lastActiveTs),
        currently_active: rec.currentlyActive,
      };
      if (rec.statusMsg !== undefined) push.status_msg = rec.statusMsg;
      for (const server of await this.d.serversSharingRoomWith(userId)) {
        let list = byDestination.get(server);
        if (!list) byDestination.set(server, (list = []));
        list.push(push);
      }
    }
    for (const [server, push] of byDestination) {
      await this.d.queues.enqueueEdu([server], { edu_type: 'm.presence', content: { push } });
    }
  }
}
