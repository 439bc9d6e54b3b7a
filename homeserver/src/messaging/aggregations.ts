// Bundled aggregations (unsigned.m.relations) for a page of events, computed with a
// few index reads per event. Spec: client-server-api/_index.md "Aggregations of child
// events"; modules/event_replacements.md "Server-side aggregation of m.replace" (the
// latest valid edit; the original's content stays as it is; none for a redacted
// original); modules/threading.md "Server-side aggregation of m.thread" (latest_event,
// count, current_user_participated); modules/reference_relations.md (chunk of event IDs).
// Annotations are not aggregated (event_annotations.md). Children sent by users the
// viewer ignores are left out.
import { relationOf } from '../events/relatesTo.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { RelationEntry, RelationsRepo } from '../storage/relationsRepo.js';

export interface Viewer {
  userId: string;
  deviceId: string;
}

export type Formatter = (ev: StoredEvent, viewer: Viewer, now: number) => Record<string, unknown>;

export interface AggregationDeps {
  relations: Pick<RelationsRepo, 'all' | 'hasChildren'>;
  reader: Pick<RoomReader, 'getEvents'>;
  ignored: { of(userId: string): Promise<ReadonlySet<string>> };
  /** events/clientEvent.ts toClientEvent: latest_event and the edit are served like any event. */
  format: Formatter;
}

export type Aggregation = Record<string, unknown>;

export class BundledAggregations {
  constructor(private readonly deps: AggregationDeps) {}

  /** unsigned.m.relations for each event that has aggregatable children, by event ID. */
  async bundle(events: StoredEvent[], viewer: Viewer, now: number): Promise<Map<string, Aggregation>> {
    const ignored = await this.deps.ignored.of(viewer.userId);
    return this.bundleWith(events, viewer, now, ignored, true);
  }

  /** Put the aggregations into already formatted events (by event_id). */
  static apply<T extends Record<string, unknown>>(formatted: T[], bundles: Map<string, Aggregation>): T[] {
    for (const f of formatted) {
      const agg = bundles.get(f.event_id as string);
      if (!agg) continue;
      const target = f as Record<string, unknown>;
      target.unsigned = { ...(target.unsigned as Record<string, unknown> | undefined), 'm.relations': agg };
    }
    return formatted;
  }

  private async bundleWith(
    events: StoredEvent[],
    viewer: Viewer,
    now: number,
    ignored: ReadonlySet<string>,
    withThreads: boolean,
  ): Promise<Map<string, Aggregation>> {
    const out = new Map<string, Aggregation>();
    // State events receive no bundled aggregations (the spec's warning).
    const candidates = events.filter((e) => typeof e.pdu.state_key !== 'string' && !e.outlier);
    await Promise.all(
      candidates.map(async (ev) => {
        // One cached probe spares the three typed reads for the many events nothing relates to.
        if (!(await this.deps.relations.hasChildren(ev.eventId))) return;
        const agg: Aggregation = {};
        const [edit, thread, refs] = await Promise.all([
          this.latestEdit(ev, ignored),
          withThreads ? this.thread(ev, viewer, now, ignored) : undefined,
          this.references(ev, ignored),
        ]);
        if (edit) agg['m.replace'] = this.deps.format(edit, viewer, now);
        if (thread) agg['m.thread'] = thread;
        if (refs) agg['m.reference'] = refs;
        if (Object.keys(agg).length > 0) out.set(ev.eventId, agg);
      }),
    );
    return out;
  }

  private async latestEdit(original: StoredEvent, ignored: ReadonlySet<string>): Promise<StoredEvent | undefined> {
    if (original.redactedBy !== undefined || relationOf(original.pdu)?.relType === 'm.replace') return undefined;
    const entries = (await this.deps.relations.all(original.eventId, 'm.replace')).filter(
      (e) => e.sender === original.pdu.sender && e.type === original.pdu.type && !ignored.has(e.sender),
    );
    if (entries.length === 0) return undefined;
    const edits = (await this.deps.reader.getEvents(entries.map((e) => e.eventId))).filter(
      (e): e is StoredEvent => e !== undefined && isValidEdit(original, e),
    );
    let best: StoredEvent | undefined;
    for (const e of edits) {
      if (
        !best ||
        e.pdu.origin_server_ts > best.pdu.origin_server_ts ||
        (e.pdu.origin_server_ts === best.pdu.origin_server_ts && e.eventId > best.eventId)
      ) {
        best = e;
      }
    }
    return best;
  }

  private async thread(root: StoredEvent, viewer: Viewer, now: number, ignored: ReadonlySet<string>): Promise<Aggregation | undefined> {
    const replies = (await this.deps.relations.all(root.eventId, 'm.thread')).filter((e) => !ignored.has(e.sender));
    if (replies.length === 0) return undefined;
    const latestEntry = replies[replies.length - 1];
    const [latest] = await this.deps.reader.getEvents([latestEntry.eventId]);
    if (!latest) return undefined;
    // latest_event carries its own aggregations (an edit of it, references), not a nested thread.
    const nested = await this.bundleWith([latest], viewer, now, ignored, false);
    const [latestEvent] = BundledAggregations.apply([this.deps.format(latest, viewer, now)], nested);
    return {
      latest_event: latestEvent,
      count: replies.length,
      current_user_participated: root.pdu.sender === viewer.userId || replies.some((r: RelationEntry) => r.sender === viewer.userId),
    };
  }

  private async references(ev: StoredEvent, ignored: ReadonlySet<string>): Promise<Aggregation | undefined> {
    const refs = (await this.deps.relations.all(ev.eventId, 'm.reference')).filter((e) => !ignored.has(e.sender));
    return refs.length === 0 ? undefined : { chunk: refs.map((r) => ({ event_id: r.eventId })) };
  }
}

/** event_replacements.md "Validity of replacement events". */
export function isValidEdit(original: StoredEvent, edit: StoredEvent): boolean {
  const newContent = edit.pdu.content['m.new_content'];
  return (
    edit.roomId === original.roomId &&
    edit.pdu.sender === original.pdu.sender &&
    edit.pdu.type === original.pdu.type &&
    edit.pdu.state_key === undefined &&
    original.pdu.state_key === undefined &&
    edit.redactedBy === undefined &&
    // An encrypted edit carries m.new_content inside its ciphertext.
    (edit.pdu.type === 'm.room.encrypted' || isObject(newContent))
  );
}

function isObject(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v)
  );
}
