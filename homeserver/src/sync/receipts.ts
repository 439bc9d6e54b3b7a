// Read receipts and the fully-read marker. Receipts are durable, take a stream
// position each, and reach /sync as m.receipt deltas; m.read.private reaches only
// its owner. Spec: client-server-api/modules/receipts.md, read_markers.md;
// data/api/client-server/receipts.yaml, read_markers.yaml.
import { forbidden, invalidParam, notFound } from '../http/errors.js';
import type { RoomReader } from '../rooms/types.js';
import type { ReceiptEntry, ReceiptsRepo } from '../storage/receiptsRepo.js';
import { KeyedLock } from '../util/keyedLock.js';
import type { AccountDataService } from './accountData.js';
import { StreamChangeCache } from './changeCache.js';
import type { ChangeKeys } from './notifier.js';
import type { Clock, ReadMarkerListener, StreamPositions } from './ports.js';

export const READ = 'm.read';
export const READ_PRIVATE = 'm.read.private';
export const FULLY_READ = 'm.fully_read';

export interface ReceiptDeps {
  repo: ReceiptsRepo;
  reader: Pick<RoomReader, 'getEvent' | 'membership'>;
  stream: StreamPositions;
  notifier: { notify(pos: number, changed: ChangeKeys): void };
  accountData: Pick<AccountDataService, 'set'>;
  /** Unread counts follow read receipts (push/pushModule.ts receiptMoved). */
  onRead?: ReadMarkerListener;
  now?: Clock;
}

/** The content of an m.receipt event: event ID → receipt type → user ID → { ts, thread_id? }. */
export type ReceiptContent = Record<string, Record<string, Record<string, { ts: number; thread_id?: string }>>>;

/** A public receipt a local user just set (federation forwards it as an m.receipt EDU). */
export interface ReceiptSet {
  roomId: string;
  userId: string;
  type: string;
  eventId: string;
  /** '' when unthreaded. */
  thread: string;
  ts: number;
}

export class ReceiptService {
  private readonly lock = new KeyedLock();
  private readonly listeners: Array<(r: ReceiptSet) => void> = [];
  private readonly changes: StreamChangeCache;
  private readonly now: Clock;

  constructor(private readonly deps: ReceiptDeps) {
    this.changes = new StreamChangeCache(deps.stream.persisted);
    this.now = deps.now ?? Date.now;
  }

  /** POST /rooms/{roomId}/receipt/{receiptType}/{eventId}. */
  async post(userId: string, roomId: string, receiptType: string, eventId: string, threadId: string | undefined): Promise<void> {
    if (receiptType === FULLY_READ) {
      // receipts.yaml: thread_id is invalid for an incompatible receipt type.
      if (threadId !== undefined) throw invalidParam('thread_id is not allowed for m.fully_read');
      await this.setFullyRead(userId, roomId, eventId);
      return;
    }
    if (receiptType !== READ && receiptType !== READ_PRIVATE) {
      throw invalidParam(`Receipt type must be one of ${READ}, ${READ_PRIVATE}, ${FULLY_READ}`);
    }
    if (threadId !== undefined && threadId !== 'main' && !threadId.startsWith('$')) {
      throw invalidParam('thread_id must be "main" or a thread root event ID');
    }
    if (threadId === 'main') await this.checkInMainTimeline(roomId, eventId);
    else if (threadId !== undefined) await this.checkInThread(roomId, eventId, threadId);
    await this.setReceipt(userId, roomId, receiptType, eventId, threadId ?? '');
  }

  /**
   * receipts.yaml 400: "The event_id is not related to the thread_id". The event must be
   * the thread's root or point at it with an m.thread relation (modules/threading.md).
   */
  private async checkInThread(roomId: string, eventId: string, threadId: string): Promise<void> {
    if (eventId === threadId) return;
    // A reaction to (or an edit of) a threaded message is in that thread too: follow a few hops (push.md).
    let current = eventId;
    for (let hop = 0; hop < 3; hop++) {
      const ev = await this.deps.reader.getEvent(current);
      // Unknown events are answered by setReceipt (404).
      if (!ev || ev.roomId !== roomId) return;
      const rel = ev.pdu.content['m.relates_to'] as { rel_type?: unknown; event_id?: unknown } | undefined;
      if (typeof rel?.event_id !== 'string' || typeof rel.rel_type !== 'string') break;
      if (rel.rel_type === 'm.thread') {
        if (rel.event_id === threadId) return;
        break;
      }
      if (rel.event_id === threadId) return;
      current = rel.event_id;
    }
    throw invalidParam(`Event ${eventId} is not in thread ${threadId}`);
  }

  /**
   * receipts.yaml 400 for `main`: an event in a thread (an m.thread relation, or within 3 hops
   * of relations of one) is not in the main timeline. Thread roots, and events related to a
   * root by other relations, are (receipts.md "Threaded read receipts").
   */
  private async checkInMainTimeline(roomId: string, eventId: string): Promise<void> {
    let current = eventId;
    for (let hop = 0; hop < 3; hop++) {
      const ev = await this.deps.reader.getEvent(current);
      // Unknown events are answered by setReceipt (404).
      if (!ev || ev.roomId !== roomId) return;
      const rel = ev.pdu.content['m.relates_to'] as { rel_type?: unknown; event_id?: unknown } | undefined;
      if (typeof rel?.event_id !== 'string' || typeof rel.rel_type !== 'string') return;
      if (rel.rel_type === 'm.thread') throw invalidParam(`Event ${eventId} is in thread ${rel.event_id}, not the main timeline`);
      current = rel.event_id;
    }
  }

  /** Hear public receipts once they are stored (private ones never leave the server). */
  onPublicReceipt(listener: (r: ReceiptSet) => void): void {
    this.listeners.push(listener);
  }

  /** POST /rooms/{roomId}/read_markers. */
  async setMarkers(userId: string, roomId: string, markers: { fullyRead?: string; read?: string; readPrivate?: string }): Promise<void> {
    if (markers.fullyRead !== undefined) await this.setFullyRead(userId, roomId, markers.fullyRead);
    if (markers.read !== undefined) await this.setReceipt(userId, roomId, READ, markers.read, '');
    if (markers.readPrivate !== undefined) await this.setReceipt(userId, roomId, READ_PRIVATE, markers.readPrivate, '');
  }

  /**
   * The m.receipt content a viewer gets for a room: every receipt up to `upTo` (initial
   * sync), or those that changed in (since, upTo]. Undefined when there is nothing.
   */
  async forSync(roomId: string, viewerId: string, since: number | undefined, upTo: number): Promise<ReceiptContent | undefined> {
    let entries: ReceiptEntry[];
    if (since === undefined) entries = (await this.deps.repo.all(roomId)).filter((e) => e.stream <= upTo);
    else if (since >= upTo || !this.changes.mayHaveChangedSince(roomId, since)) return undefined;
    else entries = await this.deps.repo.since(roomId, since, upTo);
    const content: ReceiptContent = {};
    let any = false;
    for (const e of entries) {
      // receipts.md "Private read receipts": never to anyone but their owner.
      if (e.type === READ_PRIVATE && e.userId !== viewerId) continue;
      const byType = (content[e.eventId] ??= {});
      const byUser = (byType[e.type] ??= {});
      byUser[e.userId] = e.thread === '' ? { ts: e.ts } : { ts: e.ts, thread_id: e.thread };
      any = true;
    }
    return any ? content : undefined;
  }

  /**
   * Stream position of the newest event the user has read in the room's main timeline
   * (m.read or m.read.private, unthreaded or `main`), for unread counts.
   */
  async readUpTo(roomId: string, userId: string): Promise<number | undefined> {
    let best: number | undefined;
    for (const type of [READ, READ_PRIVATE]) {
      for (const thread of ['', 'main']) {
        const r = await this.deps.repo.get(roomId, type, thread, userId);
        if (r && (best === undefined || r.eventStream > best)) best = r.eventStream;
      }
    }
    return best;
  }

  private async setReceipt(userId: string, roomId: string, type: string, eventId: string, thread: string): Promise<void> {
    const event = await this.eventInJoinedRoom(userId, roomId, eventId);
    await this.lock.run(`${roomId}\u0000${type}\u0000${thread}\u0000${userId}`, () =>
      this.deps.stream.run(async (pos) => {
        const previous = await this.deps.repo.get(roomId, type, thread, userId);
        // Like Synapse, a receipt never moves backwards (nor repeats for the same event).
        if (previous && previous.eventStream >= event.stream) return;
        const ts = this.now();
        await this.deps.repo.put({ roomId, type, thread, userId, eventId, eventStream: event.stream, ts, stream: pos }, previous);
        this.changes.record(roomId, pos);
        await this.deps.onRead?.(userId, roomId, eventId, thread);
        if (type !== READ_PRIVATE) for (const l of this.listeners) l({ roomId, userId, type, eventId, thread, ts });
        this.deps.notifier.notify(pos, type === READ_PRIVATE ? { users: [userId] } : { rooms: [roomId] });
      }),
    );
  }

  private async setFullyRead(userId: string, roomId: string, eventId: string): Promise<void> {
    // read_markers.yaml: "The event MUST belong to the room."
    await this.eventInJoinedRoom(userId, roomId, eventId);
    await this.deps.accountData.set(userId, roomId, FULLY_READ, { event_id: eventId });
  }

  private async eventInJoinedRoom(userId: string, roomId: string, eventId: string) {
    const member = await this.deps.reader.membership(roomId, userId);
    if (member?.membership !== 'join') throw forbidden('You are not joined to this room');
    const event = await this.deps.reader.getEvent(eventId);
    if (!event || event.roomId !== roomId || event.outlier) throw notFound('Event not found in this room');
    return event;
  }
}
