// Step 6 (m.room.redaction only): prune the target event in the same batch and
// remember which redaction did it. A redaction of an event we do not have is kept
// (recorded against the target's ID) and applied if the event arrives later.
// Spec: client-server-api/_index.md "Redactions"; rooms/v12.md "Redactions" — the
// redaction applies if its sender may redact (redact level) or is on the target's server.
import { serverNameOf } from '@parley/federation/core/ids';
import { redact } from '@parley/federation/core/redaction';
import type { StateLookup } from '@parley/federation/core/auth/index';
import { powerLevelsOf, userPowerLevel } from '@parley/federation/core/auth/index';
import type { RoomVersionRules } from '@parley/federation/core/roomVersions';
import type { Pdu } from '@parley/federation/core/types';
import type { Batch } from '../../storage/batch.js';
import type { EventRecord } from '../../storage/eventsRepo.js';
import type { RoomStorage } from '../../storage/roomStorage.js';
import { unindexRelation } from './indexRelations.js';

/** The event a redaction targets, wherever the room version puts it. */
export function redactsOf(pdu: Pdu, rules: RoomVersionRules): string | undefined {
  const r = rules.redactsInContent ? pdu.content.redacts : pdu.redacts;
  return typeof r === 'string' ? r : undefined;
}

/** Whether `redaction` (checked against `state`) may prune `target`. */
export function redactionApplies(redaction: Pdu, target: Pdu, state: StateLookup, rules: RoomVersionRules): boolean {
  if (userPowerLevel(redaction.sender, state, rules) >= powerLevelsOf(state, rules).levels.redact) return true;
  return serverNameOf(redaction.sender) === serverNameOf(target.sender);
}

/** Stage the pruning of the target (if known, in this room and allowed); returns the pruned record. */
export async function applyRedaction(
  storage: RoomStorage,
  batch: Batch,
  redaction: { eventId: string; roomId: string; pdu: Pdu },
  state: StateLookup,
  rules: RoomVersionRules,
): Promise<EventRecord | undefined> {
  const targetId = redactsOf(redaction.pdu, rules);
  if (targetId === undefined) return undefined;
  const target = await storage.events.byId(targetId);
  if (!target) {
    storage.events.putRedactedBy(batch, targetId, redaction.eventId);
    return undefined;
  }
  if (target.roomId !== redaction.roomId || target.redactedBy !== undefined) return undefined;
  if (!redactionApplies(redaction.pdu, target.pdu, state, rules)) return undefined;
  const pruned: EventRecord = {
    ...target,
    pdu: redact(target.pdu, rules),
    redactedBy: redaction.eventId,
    redactedBecause: { eventId: redaction.eventId, pdu: redaction.pdu },
  };
  storage.events.put(batch, pruned);
  await unindexRelation(storage, batch, target);
  storage.events.putRedactedBy(batch, targetId, redaction.eventId);
  return pruned;
}
