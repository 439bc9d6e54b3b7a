// History visibility: may a user see a room event?
// Spec: client-server-api/modules/history_visibility.md "Server behaviour". Decided by
// the state at the event: world_readable → yes; the user was joined → yes; shared and
// the user joined at some point after the event → yes; invited and the user was
// invited → yes; otherwise no. For history_visibility events and the user's own
// membership events, the state before the event counts too. After a user forgets a
// room, only its world_readable events stay visible to them (Synapse).
import { stateKeyOf, type StateKey } from '@parley/federation/core/types';
import { redact } from '@parley/federation/core/redaction';
import { roomVersion } from '@parley/federation/core/roomVersions';
import { Lru } from '../storage/lru.js';
import type { MemberRecord, RoomReader, StoredEvent } from './types.js';

type Visibility = 'world_readable' | 'shared' | 'invited' | 'joined';

const HV_KEY = stateKeyOf('m.room.history_visibility', '');

/** The spec's rules 1–5 for one (visibility, membership) pair. */
export function allowedBy(visibility: Visibility, membership: string | undefined, joinedSince: boolean): boolean {
  if (visibility === 'world_readable') return true;
  if (membership === 'join') return true;
  if (visibility === 'shared' && joinedSince) return true;
  return visibility === 'invited' && membership === 'invite';
}

/** Unknown or absent values count as `shared`. */
export function parseVisibility(v: unknown): Visibility {
  return v === 'world_readable' || v === 'invited' || v === 'joined' ? v : 'shared';
}

/** Users erased on deactivation (users/erasedUsers.ts). */
export interface ErasureLookup {
  isErased(userId: string): boolean;
}

/** Events whose history_visibility (state after them) is remembered; it never changes. */
const HV_CACHE = 50_000;

export class HistoryVisibility {
  /** history_visibility after each event: the same for every user, so a message fanned out to many syncs is read once. */
  private readonly hvAfter = new Lru<string, Visibility>(HV_CACHE);
  /**
   * Reads of hvAfter in flight: a wake releases dozens of syncs at once, all missing the same
   * new event, and each read resolves the room's whole state (10,000 entries in a big room).
   */
  private readonly hvReading = new Map<string, Promise<Visibility>>();

  constructor(
    private readonly reader: RoomReader,
    private readonly erasure?: ErasureLookup,
  ) {}

  async canSee(userId: string, event: StoredEvent): Promise<boolean> {
    return (await this.filter(userId, event.roomId, [event])).length === 1;
  }

  /** The event as `userId` may be served it (redacted if its sender was erased), or undefined if hidden. */
  async view(userId: string, event: StoredEvent): Promise<StoredEvent | undefined> {
    return (await this.filter(userId, event.roomId, [event]))[0];
  }

  /** The events of `roomId` that `userId` may see, in the given order. */
  async filter(userId: string, roomId: string, events: StoredEvent[]): Promise<StoredEvent[]> {
    const mine = events.filter((e) => e.roomId === roomId);
    if (mine.length === 0) return [];
    const memberKey = stateKeyOf('m.room.member', userId);
    const keys = [HV_KEY, memberKey];
    if (await this.allVisibleToMember(userId, roomId, mine)) return mine;
    const special = mine.filter((e) => e.pdu.type === 'm.room.history_visibility' || (e.pdu.type === 'm.room.member' && e.pdu.state_key === userId));
    const [after, before, current] = await Promise.all([
      this.reader.stateEntriesAt(mine.map((e) => e.eventId), keys, 'after'),
      this.reader.stateEntriesAt(special.map((e) => e.eventId), keys, 'before'),
      this.reader.membership(roomId, userId),
    ]);
    const beforeOf = new Map(special.map((e, i) => [e.eventId, before[i]]));
    const contents = await this.contentsOf([...after, ...before]);
    const joinedAfter = await this.joinedAfter(userId, current, memberKey);

    // A forgotten room is as if the user had never been in it (Synapse): only world_readable remains.
    const forgotten = current?.forgotten === true;
    const pairAllows = (state: Map<StateKey, string> | undefined, ev: StoredEvent): boolean => {
      const hv = parseVisibility(contentOf(contents, state?.get(HV_KEY))?.history_visibility);
      const membership = forgotten ? undefined : contentOf(contents, state?.get(memberKey))?.membership;
      return allowedBy(hv, typeof membership === 'string' ? membership : undefined, !forgotten && joinedAfter(ev.stream));
    };
    const kept = mine.flatMap((ev, i) =>
      pairAllows(after[i], ev) || (beforeOf.has(ev.eventId) && pairAllows(beforeOf.get(ev.eventId), ev)) ? [{ ev, i }] : [],
    );
    const erasure = this.erasure;
    if (!erasure || !kept.some(({ ev }) => erasure.isErased(ev.pdu.sender))) return kept.map(({ ev }) => ev);
    // Erased senders (Synapse's GDPR erasure): served as they are to users who were joined when
    // the event was sent, and redacted to everyone else.
    const version = await this.reader.roomVersion(roomId);
    const rules = version === undefined ? undefined : roomVersion(version);
    return kept.map(({ ev, i }) => {
      if (!erasure.isErased(ev.pdu.sender) || !rules || ev.redactedBy) return ev;
      const wasJoined = contentOf(contents, after[i]?.get(memberKey))?.membership === 'join' && !forgotten;
      return wasJoined ? ev : { ...ev, pdu: redact(ev.pdu, rules) };
    });
  }

  /**
   * The common case, decided without the user's membership at each event: a user joined
   * now sees every event whose visibility is `shared` or `world_readable` (rules 1 and 3),
   * unless an erased sender's events must be redacted for them.
   */
  private async allVisibleToMember(userId: string, roomId: string, events: StoredEvent[]): Promise<boolean> {
    const erasure = this.erasure;
    if (erasure && events.some((e) => erasure.isErased(e.pdu.sender))) return false;
    const current = await this.reader.membership(roomId, userId);
    if (current?.membership !== 'join' || current.forgotten === true) return false;
    for (const v of await this.visibilitiesAfter(events)) if (v !== 'shared' && v !== 'world_readable') return false;
    return true;
  }

  private async visibilitiesAfter(events: StoredEvent[]): Promise<Visibility[]> {
    const out: Array<Visibility | Promise<Visibility> | undefined> = events.map((e) => this.hvAfter.get(e.eventId) ?? this.hvReading.get(e.eventId));
    const missing = events.filter((_, i) => out[i] === undefined);
    if (missing.length > 0) {
      const read = this.readVisibilities(missing);
      const ones = missing.map((e, j) => {
        const one = read.then((vs) => vs[j]);
        this.hvReading.set(e.eventId, one);
        const done = () => this.hvReading.get(e.eventId) === one && this.hvReading.delete(e.eventId);
        one.then(done, done);
        return one;
      });
      let j = 0;
      for (let i = 0; i < out.length; i++) if (out[i] === undefined) out[i] = ones[j++];
    }
    return Promise.all(out as Array<Visibility | Promise<Visibility>>);
  }

  /** history_visibility after each event, read from the state at it (and remembered). */
  private async readVisibilities(events: StoredEvent[]): Promise<Visibility[]> {
    const states = await this.reader.stateEntriesAt(events.map((e) => e.eventId), [HV_KEY], 'after');
    const contents = await this.contentsOf(states);
    return events.map((e, i) => {
      const state = states[i];
      const v = parseVisibility(contentOf(contents, state?.get(HV_KEY))?.history_visibility);
      // Unknown state (an outlier, a rejected event): decided again next time.
      if (state) this.hvAfter.set(e.eventId, v);
      return v;
    });
  }

  /**
   * "Joined at any point after the event": true while the user is joined; after they
   * leave, true for events before the leave if they were joined right before it.
   */
  private async joinedAfter(userId: string, current: MemberRecord | undefined, memberKey: StateKey): Promise<(stream: number) => boolean> {
    if (!current) return () => false;
    if (current.membership === 'join') return () => true;
    const [prev] = await this.reader.stateEntriesAt([current.eventId], [memberKey], 'before');
    const prevId = prev?.get(memberKey);
    const prevEvent = prevId === undefined ? undefined : await this.reader.getEvent(prevId);
    const wasJoined = prevEvent?.pdu.content.membership === 'join';
    return (stream) => wasJoined && stream < current.stream;
  }

  private async contentsOf(states: Array<Map<StateKey, string> | undefined>): Promise<Map<string, Record<string, unknown>>> {
    const ids = new Set<string>();
    for (const s of states) for (const id of s?.values() ?? []) ids.add(id);
    const list = [...ids];
    const events = await this.reader.getEvents(list);
    return new Map(list.flatMap((id, i) => (events[i] ? [[id, events[i]!.pdu.content as Record<string, unknown>]] : [])));
  }
}

function contentOf(contents: Map<string, Record<string, unknown>>, eventId: string | undefined): Record<string, unknown> | undefined {
  return eventId === undefined ? undefined : contents.get(eventId);
}
