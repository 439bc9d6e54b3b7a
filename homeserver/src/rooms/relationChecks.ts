// Checks a locally sent event's relationship must pass before it is written (run in the
// room's queue, so two sends of the same reaction cannot both get through one by one).
// Spec: modules/event_annotations.md "Avoiding duplicate annotations" (400
// M_DUPLICATE_ANNOTATION unless the first was redacted — redacted children leave the
// index); modules/threading.md "Validation of m.thread relationships" (400 M_UNKNOWN).
import type { JsonObject } from '@parley/federation/core/types';
import { relationOf } from '../events/relatesTo.js';
import { duplicateAnnotation, unknown } from '../http/errors.js';
import type { RelationsRepo } from '../storage/relationsRepo.js';
import type { RoomReader } from './types.js';

export type SendCheck = (roomId: string, type: string, sender: string, content: JsonObject) => Promise<void>;

export function relationSendCheck(relations: Pick<RelationsRepo, 'annotation'>, reader: Pick<RoomReader, 'getEvent'>): SendCheck {
  return async (roomId, type, sender, content) => {
    const rel = relationOf({ content });
    if (!rel) return;
    if (rel.relType === 'm.annotation' && rel.key !== undefined) {
      if ((await relations.annotation(rel.eventId, sender, type, rel.key)) !== undefined) throw duplicateAnnotation();
    }
    if (rel.relType === 'm.thread') {
      const root = await reader.getEvent(rel.eventId);
      if (root && root.roomId === roomId && relationOf(root.pdu)) {
        throw unknown('Cannot start a thread from an event that has a relation itself');
      }
    }
  };
}
