// Deletes every trace of a room from storage (Synapse's room purge, admin API delete room):
// memberships in both directions, timeline and global stream entries, event records and
// their redaction/relation/time/search indexes, state groups (and the outlier state events
// they hold), current state, aliases, directory entry, receipts, and the room record.
//
// Run it inside the room's writer queue (RoomWriter.exclusive) so no event is written
// meanwhile. Deletes go in batches of BATCH_OPS; the room record goes last, so a purge
// interrupted by a stop can be run again and finishes the job (state groups only reachable
// from events already deleted are then left behind, unreachable). The short-ID
// dictionaries keep their entries: they hold identifiers only, and no record points at them.
import type { BatchOp } from './db.js';
import type { EventRecord } from './eventsRepo.js';
import { key, prefixRange, readU64, u64 } from './keys.js';
import type { RoomStorage } from './roomStorage.js';
import type { KeyspaceName } from './schema.js';
import type { StateGroupRecord } from './stateRepo.js';

const BATCH_OPS = 1000;
const PAGE = 500;

export interface PurgeResult {
  events: number;
  stateGroups: number;
}

export class RoomPurge {
  constructor(private readonly s: RoomStorage) {}

  async purge(roomId: string): Promise<PurgeResult> {
    const { s } = this;
    const shortRoom = await s.ids.room(roomId);
    if (shortRoom === undefined) return { events: 0, stateGroups: 0 };
    const record = await s.rooms.get(shortRoom);
    const out = new Ops(s);

    // Memberships first: the room leaves everyone's room list (/sync, /joined_rooms) at once.
    const members = await s.members.ofRoom(shortRoom);
    for (const { userId } of members) out.del('userroom_member', key(userId, shortRoom));
    await out.deletePrefix('roomuser_member', key(shortRoom));
    await out.flush();
    s.members.forget(members.map((m) => m.userId), shortRoom);

    // Timeline events, with everything indexed by their ID or stream position.
    s.timeline.forgetRoom(shortRoom);
    const groups = new Set<number>(record ? [record.stateGroup] : []);
    const purgedShorts: number[] = [];
    let after: Buffer | undefined;
    for (;;) {
      const range = prefixRange(key(shortRoom));
      const rows = await s.db.range<number>('roomstream_event', { ...(after ? { gt: after } : { gte: range.gte }), lt: range.lt, limit: PAGE });
      if (rows.length === 0) break;
      after = rows[rows.length - 1][0];
      const events = await s.events.byShorts(rows.map(([, short]) => short));
      for (const [i, [k, short]] of rows.entries()) {
        const stream = readU64(k, 8);
        out.del('roomstream_event', k);
        out.del('stream_roomevent', key(stream));
        out.del('stream_searchdoc', key(stream));
        const ev = events[i];
        if (ev) await this.dropEvent(out, ev, groups);
        purgedShorts.push(short);
      }
      await out.flush();
    }

    // History backfilled below the timeline (negative positions, in the stream of no one).
    for (;;) {
      const rows = await s.db.range<number>('roombackfill_event', { ...prefixRange(key(shortRoom)), limit: PAGE });
      if (rows.length === 0) break;
      const events = await s.events.byShorts(rows.map(([, short]) => short));
      for (const [i, [k, short]] of rows.entries()) {
        out.del('roombackfill_event', k);
        const ev = events[i];
        if (ev) await this.dropEvent(out, ev, groups);
        purgedShorts.push(short);
      }
      await out.flush();
    }
    await out.deletePrefix('roombackfill_searchdoc', key(shortRoom));
    await out.deletePrefix('roomstream_gap', key(shortRoom));

    // State groups (walking up delta parents), and outlier state events only they refer to.
    const seen = new Set<number>();
    const queue = [...groups].filter((g) => g > 0);
    while (queue.length > 0) {
      const g = queue.pop()!;
      if (seen.has(g)) continue;
      seen.add(g);
      const rec = await s.db.get<StateGroupRecord>('stategroup_delta', u64(g));
      if (!rec || rec.room !== shortRoom) continue;
      if (rec.parent !== undefined && rec.parent > 0) queue.push(rec.parent);
      const shorts: number[] = [];
      for (let i = 1; i < rec.set.length; i += 2) shorts.push(rec.set[i]);
      const states = await s.events.byShorts(shorts);
      for (const [i, ev] of states.entries()) {
        if (ev && ev.shortRoom === shortRoom) {
          await this.dropEvent(out, ev, undefined);
          purgedShorts.push(shorts[i]);
        }
      }
      out.del('stategroup_delta', u64(g));
      await out.flush();
    }

    // Room-keyed indexes.
    await out.deletePrefix('roomstatekey_event', key(shortRoom));
    await out.deletePrefix('roomstream_threadroot', key(shortRoom));
    await out.deletePrefix('roomts_event', key(shortRoom));
    await out.deletePrefix('roomtokenstream_posting', key(shortRoom));
    await out.deletePrefix('receipt_data', key(roomId));
    await out.deletePrefix('roomstream_receipt', key(roomId));
    for (const alias of await s.aliases.ofRoom(shortRoom)) out.del('alias_room', Buffer.from(alias, 'utf8'));
    await out.deletePrefix('roomalias_alias', key(shortRoom));
    out.del('roomid_published', Buffer.from(roomId, 'utf8'));
    await out.flush();
    // Last: while the record exists, running the purge again finishes an interrupted one.
    out.del('shortroom_room', u64(shortRoom));
    await out.flush();

    s.events.forget(purgedShorts);
    s.rooms.forget(shortRoom);
    return { events: purgedShorts.length, stateGroups: seen.size };
  }

  private async dropEvent(out: Ops, ev: EventRecord, groups: Set<number> | undefined): Promise<void> {
    out.del('shortevent_event', u64(ev.shortEvent));
    out.del('eventid_redactedby', Buffer.from(ev.eventId, 'utf8'));
    await out.deletePrefix('parentrel_child', key(ev.eventId));
    await out.deletePrefix('annotation_event', key(ev.eventId));
    groups?.add(ev.groupBefore);
    groups?.add(ev.groupAfter);
  }
}

/** Deletions collected and written in batches. */
class Ops {
  private ops: BatchOp[] = [];

  constructor(private readonly s: RoomStorage) {}

  del(space: KeyspaceName, k: Buffer): void {
    this.ops.push(this.s.db.del(space, k));
  }

  async deletePrefix(space: KeyspaceName, prefix: Buffer): Promise<void> {
    for (;;) {
      const rows = await this.s.db.range<unknown>(space, { ...prefixRange(prefix), limit: BATCH_OPS });
      for (const [k] of rows) this.del(space, k);
      // Deleted before the next page is read, so the range starts afresh each time.
      await this.flush(true);
      if (rows.length < BATCH_OPS) return;
    }
  }

  async flush(onlyIfFull = false): Promise<void> {
    if (this.ops.length === 0 || (onlyIfFull && this.ops.length < BATCH_OPS)) return;
    const ops = this.ops;
    this.ops = [];
    await this.s.db.write(ops);
  }
}
