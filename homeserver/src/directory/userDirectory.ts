// The user directory (POST /user_directory/search): who is joined where, and who is in a
// room anyone may look into, kept in memory. Why memory and not a keyspace: the data is
// small (a name, an avatar and a set of room IDs per user who is in a room), all of it is
// derived from room state that storage already holds, and a search has to consider every
// user anyway; so it is rebuilt from the rooms at start-up and then follows member,
// join-rule and history-visibility events from RoomOutputs.
// Spec: data/api/client-server/users.yaml — at least the users who share a room with the
// searcher and users joined to rooms with a `public` join rule or `world_readable` history;
// case-insensitive on user IDs and display names. Ranking follows Synapse's idea: exact
// and prefix matches of the display name first, then of the user ID, profiles with a
// name and an avatar before those without.
import type { JsonObject } from '@parley/federation/core/types';
import type { RoomOutputs } from '../events/outputs.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import { tokenize } from '../search/tokenizer.js';

interface Entry {
  displayName?: string;
  avatarUrl?: string;
  rooms: Set<string>;
}

export interface UserDirectoryDeps {
  reader: Pick<RoomReader, 'members' | 'currentStateEvent'>;
  /** Every room the server knows (storage/roomListRepo.ts). */
  allRoomIds(): Promise<string[]>;
  /** Global profile of a local user (remote users' names come from their member events). */
  profile(userId: string): Promise<{ displayname?: string; avatar_url?: string }>;
  serverName: string;
  onError?: (err: unknown, what: string) => void;
}

export interface DirectoryUser {
  user_id: string;
  display_name?: string;
  avatar_url?: string;
}

export class UserDirectory {
  private readonly users = new Map<string, Entry>();
  /** Rooms whose members anyone may find: join_rule public or history_visibility world_readable. */
  private readonly openRooms = new Set<string>();
  private readonly flags = new Map<string, { publicJoin: boolean; worldReadable: boolean }>();
  /** Updates are applied one at a time, in output order. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: UserDirectoryDeps) {}

  /** Follow the rooms from now on, and build the index from storage. */
  async start(outputs: RoomOutputs): Promise<void> {
    const buffered: StoredEvent[] = [];
    let building = true;
    outputs.subscribe((out) => {
      if (out.kind !== 'new_event') return;
      if (building) buffered.push(out.event);
      else this.enqueue(out.event);
    });
    for (const roomId of await this.deps.allRoomIds()) await this.loadRoom(roomId);
    building = false;
    for (const ev of buffered) this.enqueue(ev);
    await this.idle();
  }

  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(ev: StoredEvent): void {
    const { type, state_key: stateKey } = ev.pdu;
    if (stateKey === undefined || ev.outlier || ev.rejected || ev.softFailed) return;
    if (type !== 'm.room.member' && type !== 'm.room.join_rules' && type !== 'm.room.history_visibility') return;
    this.chain = this.chain
      .then(() => this.apply(ev))
      .catch((err) => this.deps.onError?.(err, 'user directory update'));
  }

  private async loadRoom(roomId: string): Promise<void> {
    const [jr, hv] = await Promise.all([
      this.deps.reader.currentStateEvent(roomId, 'm.room.join_rules', ''),
      this.deps.reader.currentStateEvent(roomId, 'm.room.history_visibility', ''),
    ]);
    this.setFlags(roomId, { publicJoin: jr?.pdu.content.join_rule === 'public', worldReadable: hv?.pdu.content.history_visibility === 'world_readable' });
    for (const { userId, member } of await this.deps.reader.members(roomId)) {
      if (member.membership !== 'join') continue;
      const ev = this.isLocal(userId) ? undefined : await this.deps.reader.currentStateEvent(roomId, 'm.room.member', userId);
      await this.joined(userId, roomId, ev?.pdu.content);
    }
  }

  private async apply(ev: StoredEvent): Promise<void> {
    const { pdu, roomId } = ev;
    const content = pdu.content;
    if (pdu.type === 'm.room.join_rules') {
      this.setFlags(roomId, { ...this.flagsOf(roomId), publicJoin: content.join_rule === 'public' });
    } else if (pdu.type === 'm.room.history_visibility') {
      this.setFlags(roomId, { ...this.flagsOf(roomId), worldReadable: content.history_visibility === 'world_readable' });
    } else if (content.membership === 'join') {
      await this.joined(pdu.state_key!, roomId, content);
    } else {
      const entry = this.users.get(pdu.state_key!);
      entry?.rooms.delete(roomId);
      if (entry && entry.rooms.size === 0) this.users.delete(pdu.state_key!);
    }
  }

  private async joined(userId: string, roomId: string, memberContent: JsonObject | undefined): Promise<void> {
    let entry = this.users.get(userId);
    if (!entry) this.users.set(userId, (entry = { rooms: new Set() }));
    entry.rooms.add(roomId);
    // Local users are listed under their global profile (Synapse), not a per-room nickname.
    const p = this.isLocal(userId)
      ? await this.deps.profile(userId)
      : { displayname: memberContent?.displayname, avatar_url: memberContent?.avatar_url };
    entry.displayName = typeof p.displayname === 'string' && p.displayname !== '' ? p.displayname : undefined;
    entry.avatarUrl = typeof p.avatar_url === 'string' && p.avatar_url !== '' ? p.avatar_url : undefined;
  }

  private flagsOf(roomId: string) {
    return this.flags.get(roomId) ?? { publicJoin: false, worldReadable: false };
  }

  private setFlags(roomId: string, f: { publicJoin: boolean; worldReadable: boolean }): void {
    this.flags.set(roomId, f);
    if (f.publicJoin || f.worldReadable) this.openRooms.add(roomId);
    else this.openRooms.delete(roomId);
  }

  private isLocal(userId: string): boolean {
    return userId.endsWith(`:${this.deps.serverName}`);
  }

  /** users.yaml: ordered by rank; `limited` when more matched than `limit`. */
  search(searcher: string, term: string, limit: number): { results: DirectoryUser[]; limited: boolean } {
    const needle = term.normalize('NFKC').toLowerCase().trim();
    const terms = tokenize(needle);
    if (needle === '') return { results: [], limited: false };
    const mine = this.users.get(searcher)?.rooms ?? new Set<string>();
    const scored: Array<{ userId: string; entry: Entry; score: number }> = [];
    for (const [userId, entry] of this.users) {
      const score = scoreOf(userId, entry, needle, terms);
      if (score === 0) continue;
      let visible = userId === searcher;
      for (const r of entry.rooms) {
        if (visible) break;
        visible = mine.has(r) || this.openRooms.has(r);
      }
      if (visible) scored.push({ userId, entry, score });
    }
    scored.sort((a, b) => b.score - a.score || (a.userId < b.userId ? -1 : 1));
    return {
      limited: scored.length > limit,
      results: scored.slice(0, limit).map(({ userId, entry }) => ({
        user_id: userId,
        ...(entry.displayName !== undefined ? { display_name: entry.displayName } : {}),
        ...(entry.avatarUrl !== undefined ? { avatar_url: entry.avatarUrl } : {}),
      })),
    };
  }
}

/**
 * 0 when the user does not match: every word of the query must start a word of the
 * display name or of the user ID (or the whole query must occur in either).
 */
export function scoreOf(userId: string, entry: { displayName?: string; avatarUrl?: string }, needle: string, terms: string[]): number {
  const id = userId.toLowerCase();
  const localpart = id.slice(1).split(':')[0];
  const name = entry.displayName?.normalize('NFKC').toLowerCase() ?? '';
  const words = [...tokenize(name), ...tokenize(id)];
  const everyTermPrefixes = terms.length > 0 && terms.every((t) => words.some((w) => w.startsWith(t)));
  const contains = name.includes(needle) || id.includes(needle);
  if (!everyTermPrefixes && !contains) return 0;
  let score = 1;
  if (name === needle) score += 100;
  else if (name.startsWith(needle)) score += 50;
  if (localpart === needle || id === needle) score += 80;
  else if (localpart.startsWith(needle) || id.startsWith(needle)) score += 40;
  if (everyTermPrefixes) score += 10;
  if (terms.every((t) => words.includes(t))) score += 10;
  if (entry.displayName !== undefined) score *= 1.2;
  if (entry.avatarUrl !== undefined) score *= 1.2;
  return score;
}
