// The room summary of a joined room in /sync: heroes and member counts.
// Spec: data/api/client-server/sync.yaml "RoomSummary" (heroes: first 5 joined or
// invited members by stream order, never the syncing user; left/banned when none).
import type { RoomReader } from '../rooms/types.js';

export interface RoomSummary {
  'm.heroes': string[];
  'm.joined_member_count': number;
  'm.invited_member_count': number;
}

export async function roomSummary(reader: Pick<RoomReader, 'members'>, roomId: string, userId: string): Promise<RoomSummary> {
  const members = (await reader.members(roomId)).sort((a, b) => a.member.stream - b.member.stream);
  let joined = 0;
  let invited = 0;
  for (const { member } of members) {
    if (member.membership === 'join') joined++;
    else if (member.membership === 'invite') invited++;
  }
  const others = members.filter((m) => m.userId !== userId);
  let heroes = others.filter((m) => m.member.membership === 'join' || m.member.membership === 'invite');
  if (heroes.length === 0) heroes = others.filter((m) => m.member.membership === 'leave' || m.member.membership === 'ban');
  return {
    'm.heroes': heroes.slice(0, 5).map((m) => m.userId),
    'm.joined_member_count': joined,
    'm.invited_member_count': invited,
  };
}
