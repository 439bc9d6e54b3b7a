// POST /search, category room_events: full-text search over the rooms the user is or was
// in, keeping only events the user may see (history visibility per event), ranked or most
// recent first, with paging, event context, profiles, current state and groupings.
// Spec: client-server-api/modules/search.md; data/api/client-server/search.yaml.
//
// A query term matches every indexed token it is a prefix of, and all terms must match
// (like Synapse on SQLite FTS). `rank` sums, per term, the matched tokens' occurrences
// divided by the square root of the field's length, so short fields that mention a term
// often rank first.
import { stateKeyOf } from '@parley/federation/core/types';
import { invalidParam } from '../http/errors.js';
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { PostingHit, SearchRepo } from '../storage/searchRepo.js';
import { compileRoomEventFilter, type RoomEventMatcher } from '../sync/filterMatch.js';
import type { RoomEventFilterJson } from '../sync/filter.js';
import type { ClientEvent, ClientEventFormatter, VisibilityFilter, Viewer } from '../sync/ports.js';
import { encodeToken } from '../sync/token.js';
import { FIELD_OF_KEY, searchableText, tokenize } from './tokenizer.js';

export type SearchKey = keyof typeof FIELD_OF_KEY;
export type GroupKey = 'room_id' | 'sender';

export interface RoomEventsCriteria {
  search_term: string;
  keys?: SearchKey[];
  filter?: RoomEventFilterJson;
  order_by?: 'recent' | 'rank';
  event_context?: { before_limit?: number; after_limit?: number; include_profile?: boolean };
  include_state?: boolean;
  groupings?: { group_by?: Array<{ key?: GroupKey }> };
}

export interface SearchDeps {
  repo: Pick<SearchRepo, 'postings'>;
  reader: Pick<RoomReader, 'roomsOfUser' | 'getEvents' | 'timeline' | 'stateEntriesAt' | 'currentState' | 'membership'>;
  visible: VisibilityFilter;
  format: ClientEventFormatter;
  now?: () => number;
}

/** search.yaml leaves the page size to the server; Synapse's default is 10 (the filter's limit overrides). */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const DEFAULT_CONTEXT = 5;
const MAX_CONTEXT = 100;

/** Where the previous page ended, and the group a group's next_batch is limited to. */
interface PageToken {
  /** Rank of the last result (order_by rank). */
  k?: number;
  /** Stream position of the last result. */
  s: number;
  g?: [GroupKey, string];
}

interface Candidate {
  stream: number;
  roomId: string;
  eventId: string;
  rank: number;
  tokens: Set<string>;
}

export class SearchService {
  private readonly now: () => number;

  constructor(private readonly deps: SearchDeps) {
    this.now = deps.now ?? Date.now;
  }

  async searchRoomEvents(viewer: Viewer, c: RoomEventsCriteria, nextBatch: string | undefined): Promise<Record<string, unknown>> {
    const page = nextBatch === undefined ? undefined : decodePage(nextBatch);
    const order = c.order_by ?? 'rank';
    const filter = compileRoomEventFilter(c.filter);
    const limit = Math.min(c.filter?.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const fields = new Set((c.keys ?? (Object.keys(FIELD_OF_KEY) as SearchKey[])).map((k) => FIELD_OF_KEY[k]));
    const terms = [...new Set(tokenize(c.search_term))];
    const empty = { search_categories: { room_events: { count: 0, results: [], highlights: [] } } };
    if (terms.length === 0 || limit === 0) return empty;

    let rooms = (await this.deps.reader.roomsOfUser(viewer.userId)).map((r) => r.roomId).filter((r) => filter.matchesRoom(r));
    if (page?.g?.[0] === 'room_id') rooms = rooms.filter((r) => r === page.g![1]);

    const candidates: Candidate[] = [];
    for (const roomId of rooms) candidates.push(...(await this.matchRoom(roomId, terms, fields)));
    const byOrder =
      order === 'recent'
        ? (a: Candidate, b: Candidate) => b.stream - a.stream
        : (a: Candidate, b: Candidate) => b.rank - a.rank || b.stream - a.stream;
    candidates.sort(byOrder);
    const count = candidates.length;

    // Walk the ordered candidates after the page token, keeping what the user may see.
    let start = 0;
    if (page) {
      const after = (x: Candidate) =>
        order === 'recent' ? x.stream < page.s : x.rank < (page.k ?? 0) || (x.rank === page.k && x.stream < page.s);
      start = candidates.findIndex(after);
      if (start < 0) start = candidates.length;
    }
    const results: Array<{ cand: Candidate; ev: StoredEvent }> = [];
    let i = start;
    while (i < candidates.length && results.length < limit) {
      const chunk = candidates.slice(i, i + limit * 2);
      i += chunk.length;
      for (const { cand, ev } of await this.admissible(viewer, chunk, filter, fields, page?.g)) {
        if (results.length < limit) results.push({ cand, ev });
        else {
          i = candidates.indexOf(cand);
          break;
        }
      }
    }
    const more = i < candidates.length;
    const last = results.at(-1)?.cand;
    const tokenFor = (g?: [GroupKey, string]) => (last ? encodePage({ ...(order === 'rank' ? { k: last.rank } : {}), s: last.stream, ...(g ? { g } : {}) }) : undefined);

    const now = this.now();
    const out: Record<string, unknown> = {
      count,
      highlights: [...new Set([...terms, ...results.flatMap((r) => [...r.cand.tokens])])],
      results: await Promise.all(results.map((r) => this.resultOf(viewer, r.cand, r.ev, c.event_context, now))),
    };
    if (more && last) out.next_batch = tokenFor(page?.g);
    if (c.include_state) out.state = await this.currentStates(viewer, [...new Set(results.map((r) => r.ev.roomId))], now);
    const groupKeys = (c.groupings?.group_by ?? []).map((g) => g.key).filter((k): k is GroupKey => k === 'room_id' || k === 'sender');
    if (groupKeys.length > 0) {
      const groups: Record<string, Record<string, { results: string[]; order: number; next_batch?: string }>> = {};
      for (const gk of groupKeys) {
        const byValue: Record<string, { results: string[]; order: number; next_batch?: string }> = {};
        for (const r of results) {
          const value = gk === 'room_id' ? r.ev.roomId : r.ev.pdu.sender;
          let g = byValue[value];
          if (!g) {
            g = byValue[value] = { results: [], order: Object.keys(byValue).length + 1 };
            if (more) g.next_batch = tokenFor([gk, value]);
          }
          g.results.push(r.ev.eventId);
        }
        groups[gk] = byValue;
      }
      out.groups = groups;
    }
    return { search_categories: { room_events: out } };
  }

  /** Index hits of one room that match every term, with their rank. */
  private async matchRoom(roomId: string, terms: string[], fields: Set<string>): Promise<Candidate[]> {
    let acc: Map<number, Candidate> | undefined;
    for (const term of terms) {
      const hits: PostingHit[] = (await this.deps.repo.postings(roomId, term)).filter((h) => fields.has(h.posting.f));
      const found = new Map<number, Candidate>();
      for (const h of hits) {
        if (acc && !acc.has(h.stream)) continue;
        let cand = found.get(h.stream);
        if (!cand) {
          const prev = acc?.get(h.stream);
          cand = { stream: h.stream, roomId, eventId: h.posting.e, rank: prev?.rank ?? 0, tokens: new Set(prev?.tokens) };
          found.set(h.stream, cand);
        }
        cand.rank += h.posting.n / Math.sqrt(Math.max(1, h.posting.l));
        cand.tokens.add(h.token);
      }
      acc = found;
      if (acc.size === 0) break;
    }
    return [...(acc?.values() ?? [])];
  }

  /**
   * The candidates that are still what the index says (not redacted since: the stored
   * event is pruned, so its text no longer matches), pass the filter and the group limit,
   * and that the viewer may see.
   */
  private async admissible(
    viewer: Viewer,
    chunk: Candidate[],
    filter: RoomEventMatcher,
    fields: Set<string>,
    group: [GroupKey, string] | undefined,
  ): Promise<Array<{ cand: Candidate; ev: StoredEvent }>> {
    const events = await this.deps.reader.getEvents(chunk.map((c) => c.eventId));
    const pairs: Array<{ cand: Candidate; ev: StoredEvent }> = [];
    chunk.forEach((cand, i) => {
      const ev = events[i];
      if (!ev || ev.redactedBy !== undefined || ev.rejected || ev.softFailed) return;
      const text = searchableText(ev.pdu.type, ev.pdu.content);
      if (!text || !fields.has(text.field)) return;
      if (!filter.matches({ type: ev.pdu.type, sender: ev.pdu.sender, roomId: ev.roomId, content: ev.pdu.content })) return;
      if (group?.[0] === 'sender' && ev.pdu.sender !== group[1]) return;
      pairs.push({ cand, ev });
    });
    // History visibility, room by room, keeping the candidates' order.
    const allowed = new Set<string>();
    const byRoom = new Map<string, StoredEvent[]>();
    for (const { ev } of pairs) {
      let list = byRoom.get(ev.roomId);
      if (!list) byRoom.set(ev.roomId, (list = []));
      list.push(ev);
    }
    for (const [roomId, list] of byRoom) {
      for (const ev of await this.deps.visible(viewer.userId, roomId, list)) allowed.add(ev.eventId);
    }
    return pairs.filter((p) => allowed.has(p.ev.eventId));
  }

  private async resultOf(
    viewer: Viewer,
    cand: Candidate,
    ev: StoredEvent,
    ctx: RoomEventsCriteria['event_context'],
    now: number,
  ): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = { rank: cand.rank, result: await this.deps.format(ev, viewer, now) };
    if (ctx) result.context = await this.contextOf(viewer, ev, ctx, now);
    return result;
  }

  /** search.yaml "Event Context": neighbours the viewer may see, tokens usable with /messages, profiles. */
  private async contextOf(viewer: Viewer, ev: StoredEvent, ctx: NonNullable<RoomEventsCriteria['event_context']>, now: number) {
    const beforeLimit = clamp(ctx.before_limit ?? DEFAULT_CONTEXT, MAX_CONTEXT);
    const afterLimit = clamp(ctx.after_limit ?? DEFAULT_CONTEXT, MAX_CONTEXT);
    const { reader, visible } = this.deps;
    // Departed users see up to their leave only (as /messages).
    const member = await reader.membership(ev.roomId, viewer.userId);
    const upTo = member && member.membership !== 'join' ? member.stream : undefined;
    const before =
      beforeLimit === 0 ? [] : await visible(viewer.userId, ev.roomId, await reader.timeline(ev.roomId, { upTo: ev.stream - 1, dir: 'b', limit: beforeLimit }));
    const after =
      afterLimit === 0
        ? []
        : await visible(viewer.userId, ev.roomId, await reader.timeline(ev.roomId, { after: ev.stream, ...(upTo !== undefined ? { upTo } : {}), dir: 'f', limit: afterLimit }));
    const out: Record<string, unknown> = {
      start: encodeToken((before.at(-1)?.stream ?? ev.stream) - 1),
      end: encodeToken(after.at(-1)?.stream ?? ev.stream),
      events_before: await Promise.all(before.map((e) => this.deps.format(e, viewer, now))),
      events_after: await Promise.all(after.map((e) => this.deps.format(e, viewer, now))),
    };
    if (ctx.include_profile) out.profile_info = await this.profilesAt(ev, [ev, ...before, ...after]);
    return out;
  }

  /** The senders' display names and avatars as the room state had them at the result (historic profiles). */
  private async profilesAt(at: StoredEvent, events: StoredEvent[]): Promise<Record<string, { displayname?: string; avatar_url?: string }>> {
    const senders = [...new Set(events.map((e) => e.pdu.sender))];
    const keys = senders.map((s) => stateKeyOf('m.room.member', s));
    const [state] = await this.deps.reader.stateEntriesAt([at.eventId], keys, 'after');
    const ids = keys.map((k) => state?.get(k));
    const members = await this.deps.reader.getEvents(ids.filter((x): x is string => x !== undefined));
    const byId = new Map(members.filter((m): m is StoredEvent => m !== undefined).map((m) => [m.eventId, m]));
    const out: Record<string, { displayname?: string; avatar_url?: string }> = {};
    senders.forEach((s, i) => {
      const content = ids[i] === undefined ? undefined : byId.get(ids[i]!)?.pdu.content;
      const p: { displayname?: string; avatar_url?: string } = {};
      if (typeof content?.displayname === 'string') p.displayname = content.displayname;
      if (typeof content?.avatar_url === 'string') p.avatar_url = content.avatar_url;
      out[s] = p;
    });
    return out;
  }

  /** include_state: the current state of each result room the viewer is joined to (never of rooms they left). */
  private async currentStates(viewer: Viewer, roomIds: string[], now: number): Promise<Record<string, ClientEvent[]>> {
    const out: Record<string, ClientEvent[]> = {};
    for (const roomId of roomIds) {
      const m = await this.deps.reader.membership(roomId, viewer.userId);
      if (m?.membership !== 'join') continue;
      const state = await this.deps.reader.currentState(roomId);
      const events = (await this.deps.reader.getEvents([...state.values()])).filter((e): e is StoredEvent => e !== undefined);
      out[roomId] = await Promise.all(events.map((e) => this.deps.format(e, viewer, now)));
    }
    return out;
  }
}

function clamp(n: number, max: number): number {
  return Math.max(0, Math.min(n, max));
}

function encodePage(t: PageToken): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64url');
}

function decodePage(s: string): PageToken {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as PageToken;
    if (typeof t.s !== 'number' || (t.k !== undefined && typeof t.k !== 'number')) throw new Error('bad token');
    if (t.g !== undefined && !(Array.isArray(t.g) && (t.g[0] === 'room_id' || t.g[0] === 'sender') && typeof t.g[1] === 'string')) {
      throw new Error('bad token');
    }
    return t;
  } catch {
    throw invalidParam('Invalid next_batch token');
  }
}
