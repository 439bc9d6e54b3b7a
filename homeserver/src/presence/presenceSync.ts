// The `presence` section of /sync: m.presence events of the users who share a joined
// room with the syncing user (and of the user themself).
// Spec: client-server-api/modules/presence.md ("sent to interested parties where users
// share a room membership"); data/api/client-server/sync.yaml `presence`.
// Initial syncs list everyone in the user's rooms who is not offline (Synapse); incremental
// syncs list the users whose presence changed in the window, so each change is delivered once.
import type { PresenceRepo } from '../storage/presenceRepo.js';
import type { RoomReader } from '../rooms/types.js';
import type { ExtensionWindow, QuietWindow, SyncExtension } from '../sync/syncService.js';
import type { PresenceService } from './presenceService.js';
import { NO_EVENTS } from '../sync/emptyParts.js';

export interface PresenceSyncDeps {
  presence: Pick<PresenceService, 'records' | 'contentOf'>;
  repo: Pick<PresenceRepo, 'changedSince'>;
  reader: Pick<RoomReader, 'roomsOfUser' | 'members'>;
}

/** Windows remembered: one presence change wakes every sync in the user's rooms, all asking for the same window. */
const SHARED_WINDOWS = 8;
/** A quiet window's presence section (read-only, shared). */
const QUIET: Record<string, unknown> = Object.freeze({ presence: NO_EVENTS });

export class PresenceSync implements SyncExtension {
  private readonly windows = new Map<string, Promise<string[]>>();

  constructor(private readonly deps: PresenceSyncDeps) {}

  /**
   * Users whose presence changed in (since, upTo], read once for all the syncs woken together.
   * A later change of one of them moves their entry out of the window; a sync served the
   * earlier read then just sees their latest state once more in its next window.
   */
  private changedIn(since: number, upTo: number): Promise<string[]> {
    const k = `${since}:${upTo}`;
    let p = this.windows.get(k);
    if (!p) {
      p = this.deps.repo.changedSince(since, upTo).then((changed) => [...new Set(changed.map((c) => c.userId))]);
      this.windows.set(k, p);
      if (this.windows.size > SHARED_WINDOWS) this.windows.delete(this.windows.keys().next().value as string);
      p.catch(() => this.windows.get(k) === p && this.windows.delete(k));
    }
    return p;
  }

  /** A quiet window (SyncExtension.quietFields): every presence change is announced to the user's rooms and the user, so none is in it. */
  quietFields(_w: QuietWindow): Record<string, unknown> {
    return QUIET;
  }

  async contribute(w: ExtensionWindow): Promise<{ fields: Record<string, unknown>; hasNews: boolean }> {
    const viewer = w.viewer.userId;
    const initial = w.since === undefined || w.fullState;
    let users: string[];
    if (initial) {
      users = [...(await this.roomMates(viewer))];
    } else if (!(await this.deps.reader.roomsOfUser(viewer)).some((r) => r.member.membership === 'join')) {
      // In no room, the viewer sees only their own presence: their record says whether it changed
      // in the window, without reading everyone's changes (a user's first long-poll after others
      // came online read the whole window: 447,000 rows for 1,000 such users, measured).
      const own = (await this.deps.presence.records([viewer])).get(viewer);
      if (!own || own.stream <= (w.since ?? 0) || own.stream > w.upTo) return { fields: {}, hasNews: false };
      users = [viewer];
    } else {
      const changed = await this.changedIn(w.since ?? 0, w.upTo);
      if (changed.length === 0) return { fields: {}, hasNews: false };
      users = await this.sharingWith(viewer, changed);
    }
    const records = await this.deps.presence.records(users);
    const f = w.filter.presence;
    let events = users
      .filter((u) => {
        const rec = records.get(u);
        return rec !== undefined && (!initial || rec.state !== 'offline');
      })
      .filter((u) => f.matches({ type: 'm.presence', sender: u }))
      .map((u) => ({ type: 'm.presence', sender: u, content: this.deps.presence.contentOf(records.get(u)!) }));
    if (f.limit !== undefined) events = events.slice(0, f.limit);
    return { fields: { presence: { events } }, hasNews: !initial && events.length > 0 };
  }

  private async joinedRooms(userId: string): Promise<string[]> {
    const rooms = await this.deps.reader.roomsOfUser(userId);
    return rooms.filter((r) => r.member.membership === 'join').map((r) => r.roomId);
  }

  /** The viewer and every user joined to one of the viewer's joined rooms. */
  private async roomMates(viewer: string): Promise<Set<string>> {
    const out = new Set([viewer]);
    for (const roomId of await this.joinedRooms(viewer)) {
      for (const m of await this.deps.reader.members(roomId)) if (m.member.membership === 'join') out.add(m.userId);
    }
    return out;
  }

  /** The candidates who are the viewer or share a joined room with them. */
  private async sharingWith(viewer: string, candidates: string[]): Promise<string[]> {
    const mine = new Set(await this.joinedRooms(viewer));
    const out: string[] = [];
    for (const u of candidates) {
      if (u === viewer || (await this.joinedRooms(u)).some((r) => mine.has(r))) out.push(u);
    }
    return out;
  }
}
