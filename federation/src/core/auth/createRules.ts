// Auth rule 1: the m.room.create event.
// Spec: rooms/fragments/v1-auth-rules.md rule 1; rooms/v11.md rule 1 (no `creator`); rooms/v12.md rule 1.
import { isValidUserId, serverNameOf } from '../ids.js';
import { roomVersion, type RoomVersionRules } from '../roomVersions.js';
import type { RoomEvent } from '../types.js';
import { deny } from './ruleNumbers.js';
import { ALLOWED, type AuthResult } from './types.js';

export function checkCreateEvent(event: RoomEvent, rules: RoomVersionRules): AuthResult {
  const { pdu } = event;
  if (pdu.prev_events.length > 0) {
    return deny(rules, 'create.prevEvents', 'create event has prev_events', 'The room creation event cannot follow other events.');
  }
  if (rules.roomIdIsCreateEventHash) {
    if (pdu.room_id !== undefined) {
      return deny(rules, 'create.hasRoomId', 'create event has a room_id', 'The room creation event must not name a room ID.');
    }
  } else {
    const roomDomain = serverNameOf(event.roomId);
    if (roomDomain === undefined || roomDomain !== serverNameOf(pdu.sender)) {
      return deny(rules, 'create.roomIdDomain', 'room ID domain differs from sender', "The room ID must be on the creator's server.");
    }
  }
  const version = pdu.content.room_version;
  if (version !== undefined && (typeof version !== 'string' || roomVersion(version) === undefined)) {
    return deny(rules, 'create.roomVersion', 'unknown room version', `Room version ${JSON.stringify(version)} is not recognised.`);
  }
  if (!rules.creatorIsSender && !Object.hasOwn(pdu.content, 'creator')) {
    return deny(rules, 'create.creator', 'create event has no creator', 'The room creation event must name its creator.');
  }
  if (rules.privilegedCreators && Object.hasOwn(pdu.content, 'additional_creators')) {
    const extra = pdu.content.additional_creators;
    if (!Array.isArray(extra) || !extra.every((u) => typeof u === 'string' && isValidUserId(u))) {
      return deny(
        rules,
        'create.additionalCreators',
        'additional_creators is not a list of user IDs',
        'additional_creators must be a list of valid user IDs.',
      );
    }
  }
  return ALLOWED;
}
