// invite_state / knock_state for /sync: stripped state of the room plus the member
// event itself. Spec: client-server-api/_index.md "Stripped state" (create is required
// since v1.16; only sender, type, state_key, content); sync.yaml "Invited Room".
import { stateKeyOf } from '@parley/federation/core/types';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { Viewer } from './ports.js';
import type { EventSerializer } from './serialize.js';

const STRIPPED_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
];

export interface StrippedEvent {
  type: string;
  state_key: string;
  sender: string;
  content: unknown;
}

function strip(e: unknown): StrippedEvent | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const { type, state_key, sender, content } = e as Record<string, unknown>;
  if (typeof type !== 'string' || typeof state_key !== 'string' || typeof sender !== 'string') return undefined;
  return { type, state_key, sender, content: content ?? {} };
}

export async function strippedStateFor(
  reader: Pick<RoomReader, 'stateAfter' | 'stateAtStream' | 'getEvents'>,
  serializer: EventSerializer,
  member: StoredEvent,
  viewer: Viewer,
  now: number,
): Promise<Array<StrippedEvent | Record<string, unknown>>> {
  const field = member.pdu.content.membership === 'knock' ? 'knock_room_state' : 'invite_room_state';
  // A remote invite carries the inviting server's stripped state; a local one is read here.
  const given = member.pdu.unsigned?.[field];
  let stripped: StrippedEvent[];
  if (Array.isArray(given)) {
    stripped = given.map(strip).filter((e): e is StrippedEvent => e !== undefined);
  } else {
    const state = (await reader.stateAfter(member.eventId)) ?? (await reader.stateAtStream(member.roomId, member.stream));
    const ids = STRIPPED_TYPES.map((t) => state.get(stateKeyOf(t, ''))).filter((id): id is string => id !== undefined);
    const events = await reader.getEvents(ids);
    stripped = events
      .filter((e): e is StoredEvent => e !== undefined)
      .map((e) => ({ type: e.pdu.type, state_key: e.pdu.state_key ?? '', sender: e.pdu.sender, content: e.pdu.content }));
  }
  stripped = stripped.filter((e) => !(e.type === 'm.room.member' && e.state_key === member.pdu.state_key));
  // Like Synapse, the member event itself comes last, in client format.
  const self = await serializer.one(member, viewer, now, { withoutRoomId: true });
  const unsigned = self.unsigned as Record<string, unknown> | undefined;
  if (unsigned) {
    const { invite_room_state: _i, knock_room_state: _k, ...rest } = unsigned;
    self.unsigned = rest;
  }
  return [...stripped, self];
}
