// Nothing a local user sent is lost between the room write and the outgoing queue: the
// queue entry is written just after the event (by the RoomOutputs listener), so a crash in
// between would leave the event unsent. A cursor (the stream position up to which every
// local event is known to be queued) is kept; on startup every local event after it is
// queued again. Peers drop PDUs they already have, so a duplicate costs one entry of a
// transaction. Synapse does the same with its per-destination catch-up
// (last_successful_stream_ordering). Spec: server-server-api.md "Transactions" (the
// sending server is responsible for retrying).
import type { RoomReader, StoredEvent } from '../../rooms/types.js';

/** Tracks which stream positions are still on their way into the queues. Pure. */
export class OutboxWatermark {
  private readonly inflight = new Set<number>();
  private maxSeen = 0;

  /** An event at `stream` reached the sender; it is queued once `end` is called. */
  begin(stream: number): void {
    this.inflight.add(stream);
    if (stream > this.maxSeen) this.maxSeen = stream;
  }

  end(stream: number): void {
    this.inflight.delete(stream);
  }

  /** Every event seen up to this position has been queued. */
  safe(): number {
    let min = Infinity;
    for (const s of this.inflight) if (s < min) min = s;
    return min === Infinity ? this.maxSeen : Math.min(this.maxSeen, min - 1);
  }
}

export interface OutboxCursor {
  enqueuedUpTo(): Promise<number | undefined>;
  setEnqueuedUpTo(stream: number): Promise<void>;
}

export interface CatchUpDeps {
  cursor: OutboxCursor;
  reader: Pick<RoomReader, 'eventsSince'>;
  /** The highest stream position whose events are all durable. */
  persistedStream: () => number;
  watermark: OutboxWatermark;
  /** Queue one event for its destinations (the sender ignores remote and outlier events). */
  enqueue: (event: StoredEvent) => Promise<void>;
  /** Wait until every event handed to the sender so far is queued. */
  idle: () => Promise<void>;
  onError: (err: unknown, what: string) => void;
  /** How often the cursor is saved. It is saved one period late, so that an event written
   *  just before a position already seen (rooms commit concurrently) is never skipped. */
  saveEveryMs?: number;
}

const PAGE = 200;

export class OutboundCatchUp {
  private timer: NodeJS.Timeout | undefined;
  private saved = 0;
  private pending: number | undefined;

  constructor(private readonly deps: CatchUpDeps) {}

  /** Queue again every local event after the cursor, then keep the cursor moving. */
  async start(): Promise<void> {
    const { cursor, reader } = this.deps;
    const upTo = this.deps.persistedStream();
    const from = await cursor.enqueuedUpTo();
    if (from !== undefined) {
      let after = from;
      for (;;) {
        const events = await reader.eventsSince(after, upTo, PAGE);
        for (const e of events) await this.deps.enqueue(e);
        if (events.length < PAGE) break;
        after = events[events.length - 1].stream;
      }
    }
    // A database from before this cursor existed: its events were queued live.
    await cursor.setEnqueuedUpTo(upTo);
    this.saved = upTo;
    this.timer = setInterval(() => void this.tick(), this.deps.saveEveryMs ?? 1000);
    this.timer.unref();
  }

  /** After the rooms have drained: everything seen is queued, so the cursor can go to the end. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.deps.idle();
    await this.save(this.deps.watermark.safe());
  }

  private async tick(): Promise<void> {
    const last = this.pending;
    this.pending = this.deps.watermark.safe();
    if (last !== undefined) await this.save(last);
  }

  private async save(position: number): Promise<void> {
    if (position <= this.saved) return;
    this.saved = position;
    await this.deps.cursor.setEnqueuedUpTo(position).catch((err: unknown) => this.deps.onError(err, 'saving the outbox cursor'));
  }
}
