// Keeps the full-text index in step with the rooms. The index follows the room stream
// from a durable cursor ("indexed up to"): each pass reads the events in
// (cursor, persisted] and writes their postings together with the new cursor, so a crash
// between an event becoming durable and its indexing only delays it — the next start
// catches up. Redactions are taken out twice over: at once when the room service
// reports one (RoomOutputs `redaction`), and again when the pass reaches the redaction
// event in the stream, so a crash cannot leave a redacted body in the index. The query
// side also re-checks every hit against the stored (pruned) event.
// Spec: client-server-api/modules/search.md.
import type { RoomOutputs } from '../events/outputs.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { DocPlace, SearchDoc, SearchRepo } from '../storage/searchRepo.js';
import { searchableText, termCounts } from './tokenizer.js';

const PASS_BATCH = 256;

export interface SearchIndexerDeps {
  repo: SearchRepo;
  reader: Pick<RoomReader, 'eventsSince' | 'getEvent' | 'getEvents'>;
  stream: { readonly persisted: number; onAdvance(listener: (persisted: number) => void): void };
  onError?: (err: unknown, what: string) => void;
}

export class SearchIndexer {
  /** Passes and removals run one at a time, in order. */
  private chain: Promise<void> = Promise.resolve();
  private passQueued = false;
  /** Indexed up to here; the durable cursor may lag behind over stretches with nothing to index. */
  private cursor: number | undefined;

  constructor(private readonly deps: SearchIndexerDeps) {}

  /** Index whatever the last run left behind, then follow new events and redactions. */
  async start(outputs: RoomOutputs): Promise<void> {
    outputs.subscribe((out) => {
      if (out.kind === 'redaction') this.enqueue(() => this.removeRedacted(out.redactedEventId));
      this.kick();
    });
    // Events become readable when the stream's persisted position passes them, which may
    // be after their own output (a concurrent write below them was still pending).
    this.deps.stream.onAdvance(() => this.kick());
    this.kick();
    void this.indexHistory();
    await this.idle();
  }

  /** Resolves once everything queued so far is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  /**
   * Index room events that are not in the stream the passes follow: history fetched into a gap
   * (positions reserved there, which the cursor passed while they were free) or below a room's
   * timeline (negative positions). Each was marked when placed (storage/timelineRepo.ts), so
   * what a crash left unindexed is found again at the next start.
   */
  indexHistory(): Promise<void> {
    this.enqueue(async () => {
      for (;;) {
        const ids = await this.deps.repo.historyToIndex(PASS_BATCH);
        if (ids.length === 0) return;
        const events = (await this.deps.reader.getEvents(ids)).filter((e) => e !== undefined);
        const docs = events.filter((e) => !e.outlier && !e.rejected && !e.softFailed).flatMap((e) => docOf(e) ?? []);
        await this.deps.repo.addHistory(docs, ids);
        if (ids.length < PASS_BATCH) return;
      }
    });
    return this.chain;
  }

  /** Schedule a catch-up pass (at most one waiting at a time). */
  kick(): void {
    if (this.passQueued) return;
    this.passQueued = true;
    this.enqueue(async () => {
      this.passQueued = false;
      await this.catchUp();
    });
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((err) => this.deps.onError?.(err, 'search indexing'));
  }

  private async catchUp(): Promise<void> {
    let upTo = this.cursor ?? (await this.deps.repo.indexedUpTo());
    const target = this.deps.stream.persisted;
    while (upTo < target) {
      const events = await this.deps.reader.eventsSince(upTo, target, PASS_BATCH);
      const docs: SearchDoc[] = [];
      const removals: DocPlace[] = [];
      for (const ev of events) {
        if (ev.outlier || ev.rejected || ev.softFailed) continue;
        if (ev.pdu.type === 'm.room.redaction') {
          const target = await this.redactedTarget(ev);
          if (target) removals.push({ roomId: target.roomId, stream: target.stream });
          continue;
        }
        const doc = docOf(ev);
        if (doc) docs.push(doc);
      }
      const kept = removals.length === 0 ? docs : docs.filter((d) => !removals.some((r) => r.roomId === d.roomId && r.stream === d.stream));
      const next = events.length < PASS_BATCH ? target : events[events.length - 1].stream;
      // Nothing to index: move on in memory only (no fsync per receipt or typing change).
      if (kept.length > 0 || removals.length > 0) await this.deps.repo.write(kept, removals, next);
      upTo = next;
      this.cursor = next;
    }
  }

  /** The event a redaction event pruned, if the server applied it. */
  private async redactedTarget(redaction: StoredEvent): Promise<StoredEvent | undefined> {
    const { pdu } = redaction;
    const id = typeof pdu.content.redacts === 'string' ? pdu.content.redacts : (pdu as { redacts?: unknown }).redacts;
    if (typeof id !== 'string') return undefined;
    const target = await this.deps.reader.getEvent(id);
    return target?.redactedBy !== undefined ? target : undefined;
  }

  private async removeRedacted(eventId: string): Promise<void> {
    const ev = await this.deps.reader.getEvent(eventId);
    if (ev && ev.stream !== 0) await this.deps.repo.remove([{ roomId: ev.roomId, stream: ev.stream }]);
  }
}

/** The index entry of an event, if it has searchable text (and was not redacted). */
export function docOf(ev: StoredEvent): SearchDoc | undefined {
  // Position 0: not in the timeline (rejected, soft-failed); negative: backfilled history.
  if (ev.redactedBy !== undefined || ev.stream === 0) return undefined;
  const found = searchableText(ev.pdu.type, ev.pdu.content);
  if (!found) return undefined;
  const { tokens, length } = termCounts(found.text);
  if (tokens.size === 0) return undefined;
  return { roomId: ev.roomId, stream: ev.stream, eventId: ev.eventId, field: found.field, tokens, length };
}
