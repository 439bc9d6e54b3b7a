// Who created the room, per room version.
// Spec: rooms/v11.md ("creator" removed, sender is the creator); rooms/v12.md "room creators".
import type { RoomVersionRules } from '../roomVersions.js';
import type { Pdu } from '../types.js';

/**
 * The user the "first join by the creator" rule is about: `content.creator` up to v10,
 * the create event's sender from v11 (in v12 additional creators do not count here).
 */
export function originalCreator(create: Pdu | undefined, rules: RoomVersionRules): string | undefined {
  if (create === undefined) return undefined;
  if (rules.creatorIsSender) return create.sender;
  const creator = create.content.creator;
  return typeof creator === 'string' ? creator : undefined;
}

/**
 * The room's creators: the original creator, plus v12's `additional_creators`.
 * Before v12 creators only matter when there is no power levels event (they get 100).
 */
export function roomCreators(create: Pdu | undefined, rules: RoomVersionRules): Set<string> {
  const out = new Set<string>();
  const first = originalCreator(create, rules);
  if (first !== undefined) out.add(first);
  if (rules.privilegedCreators && create !== undefined) {
    const extra = create.content.additional_creators;
    if (Array.isArray(extra)) for (const u of extra) if (typeof u === 'string') out.add(u);
  }
  return out;
}
