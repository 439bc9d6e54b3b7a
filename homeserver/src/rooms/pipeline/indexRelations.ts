// Step 7b: keep the relations index and the timestamp index in step with the event,
// in the event's own batch. A redacted child leaves the relations index (its
// relationship is broken). Spec: client-server-api/_index.md "Aggregations of child
// events" (redacted children are de-aggregated).
import { relationOf } from '../../events/relatesTo.js';
import type { Batch } from '../../storage/batch.js';
import type { EventRecord } from '../../storage/eventsRepo.js';
import type { RelationChild } from '../../storage/relationsRepo.js';
import type { RoomStorage } from '../../storage/roomStorage.js';

function childOf(record: EventRecord): RelationChild | undefined {
  const rel = relationOf(record.pdu);
  if (!rel || rel.eventId === record.eventId) return undefined;
  return {
    eventId: record.eventId,
    shortRoom: record.shortRoom,
    stream: record.stream,
    type: record.pdu.type,
    sender: record.pdu.sender,
    parentId: rel.eventId,
    relType: rel.relType,
    ...(rel.key !== undefined ? { key: rel.key } : {}),
  };
}

/** Index a newly stored event (already pruned if a redaction was waiting for it). */
export function indexNewEvent(storage: RoomStorage, batch: Batch, record: EventRecord): void {
  if (record.outlier) return;
  storage.eventTimes.stage(batch, record.shortRoom, record.pdu.origin_server_ts, record.stream, record.shortEvent);
  if (record.redactedBy !== undefined) return;
  const child = childOf(record);
  if (child) storage.relations.stage(batch, child);
}

/** Drop an event from the relations index: just redacted (given as it was before pruning), or rejected after all. */
export async function unindexRelation(storage: RoomStorage, batch: Batch, original: EventRecord): Promise<void> {
  const child = childOf(original);
  if (child) await storage.relations.unstage(batch, child);
}
