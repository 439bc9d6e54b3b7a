// What evaluating one event needs from the room, read once per event and shared by its
// recipients: who gets it evaluated, the member count, the sender's power and the levels
// notifications need. Spec: client-server-api/modules/push.md "Server behaviour" (every
// local user in the room except the sender), "Conditions" (room_member_count,
// sender_notification_permission); Synapse also evaluates an invite for its local invitee.
import { notificationPowerLevel, userPowerLevel } from '@parley/federation/core/auth/index';
import { serverNameOf } from '@parley/federation/core/ids';
import { roomVersion } from '@parley/federation/core/roomVersions';
import { stateKeyOf, type Pdu } from '@parley/federation/core/types';
import type { MemberRecord, RoomReader, StoredEvent } from '../rooms/types.js';

export type EventContextReader = Pick<RoomReader, 'members' | 'membership' | 'joinedCount' | 'roomVersion' | 'stateEntriesAt' | 'getEvents'>;

export interface EventFacts {
  /** Local users to evaluate the event for. */
  recipients: string[];
  memberCount: number;
  /** A recipient's member event ID, for display names (indexed on first use: most events need none). */
  memberEventOf(userId: string): string | undefined;
  /** Filled lazily: power levels are only read for events that reach a recipient. */
  power?: { sender: number; notificationLevel(key: string): number };
}

export async function eventFacts(reader: EventContextReader, ev: StoredEvent, serverName: string): Promise<EventFacts> {
  const members = await reader.members(ev.roomId);
  const joined = members.filter((m) => m.member.membership === 'join');
  return factsOf(joined, joined.length, ev, serverName);
}

/**
 * The same facts when only `candidates` can be notified (the others' result is known to
 * notify nobody): their memberships are looked up one by one instead of reading the
 * whole member list.
 */
export async function eventFactsAmong(
  reader: EventContextReader,
  ev: StoredEvent,
  serverName: string,
  candidates: Iterable<string>,
  memberCount: number,
): Promise<EventFacts> {
  const isLocal = (userId: string) => serverNameOf(userId) === serverName;
  const users = [...new Set(candidates)].filter((u) => isLocal(u) && u !== ev.pdu.sender);
  const records = await Promise.all(users.map((u) => reader.membership(ev.roomId, u)));
  const joined = users.flatMap((userId, i) => (records[i]?.membership === 'join' ? [{ userId, member: records[i] }] : []));
  return factsOf(joined, memberCount, ev, serverName);
}

function factsOf(joined: Array<{ userId: string; member: MemberRecord }>, memberCount: number, ev: StoredEvent, serverName: string): EventFacts {
  const { pdu } = ev;
  const isLocal = (userId: string) => serverNameOf(userId) === serverName;
  const recipients: string[] = [];
  const eventIds: string[] = [];
  for (const m of joined) {
    // Current membership stands in for membership at the event; a join after it does not count.
    if (m.userId === pdu.sender || !isLocal(m.userId) || m.member.stream > ev.stream) continue;
    recipients.push(m.userId);
    eventIds.push(m.member.eventId);
  }
  const target = pdu.state_key;
  if (pdu.type === 'm.room.member' && pdu.content.membership === 'invite' && typeof target === 'string') {
    if (target !== pdu.sender && isLocal(target) && !recipients.includes(target)) {
      recipients.push(target);
      eventIds.push(ev.eventId);
    }
  }
  let index: Map<string, string> | undefined;
  const memberEventOf = (userId: string) => (index ??= new Map(recipients.map((u, i) => [u, eventIds[i]]))).get(userId);
  return { recipients, memberCount, memberEventOf };
}

/** The sender's power level and the notification levels in force before the event. */
export async function powerFacts(reader: EventContextReader, ev: StoredEvent): Promise<NonNullable<EventFacts['power']>> {
  const rules = roomVersion((await reader.roomVersion(ev.roomId)) ?? '');
  const keys = [stateKeyOf('m.room.create', ''), stateKeyOf('m.room.power_levels', '')];
  const [entries] = await reader.stateEntriesAt([ev.eventId], keys, 'before');
  const ids = keys.map((k) => entries?.get(k));
  const events = await reader.getEvents(ids.filter((id): id is string => id !== undefined));
  const byKey = new Map<string, Pdu>();
  for (const e of events) if (e && typeof e.pdu.state_key === 'string') byKey.set(stateKeyOf(e.pdu.type, e.pdu.state_key), e.pdu);
  const lookup = (type: string, stateKey: string) => byKey.get(stateKeyOf(type, stateKey));
  if (!rules) return { sender: 0, notificationLevel: () => Infinity };
  return {
    sender: userPowerLevel(ev.pdu.sender, lookup, rules),
    notificationLevel: (key) => notificationPowerLevel(key, lookup, rules),
  };
}
