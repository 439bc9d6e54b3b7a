// The relationship an event declares in content.m.relates_to, if it is well formed.
// Spec: client-server-api/_index.md "Forming relationships between events" — malformed
// relationships are ignored; replies (m.in_reply_to) have no rel_type and are not indexed.
import type { Pdu } from '@parley/federation/core/types';

export interface Relation {
  relType: string;
  /** The parent event. */
  eventId: string;
  /** m.annotation only: the annotation key (e.g. the reaction emoji). */
  key?: string;
}

export function relationOf(pdu: Pick<Pdu, 'content' | 'state_key'>): Relation | undefined {
  const rel = pdu.content['m.relates_to'];
  if (typeof rel !== 'object' || rel === null || Array.isArray(rel)) return undefined;
  const { rel_type: relType, event_id: eventId, key } = rel as Record<string, unknown>;
  if (typeof relType !== 'string' || relType === '' || typeof eventId !== 'string' || !eventId.startsWith('$')) return undefined;
  if (relType === 'm.annotation') {
    // event_annotations.md: an annotation needs a key.
    if (typeof key !== 'string') return undefined;
    return { relType, eventId, key };
  }
  return { relType, eventId };
}
