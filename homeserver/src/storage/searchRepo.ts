// The full-text search index: postings per (room, token, event) and, per indexed event,
// the tokens it contributed (so a redaction can take them out again), plus the cursor up
// to which the room stream has been indexed. Layouts: schema.ts roomtokenstream_posting,
// stream_searchdoc, roombackfill_searchdoc, historyevent_unindexed, meta_value 'search_indexed'. History backfilled
// below the timeline has negative positions, which are per room (storage/timelineRepo.ts).
import type { BatchOp, Database } from './db.js';
import { i64, key, readI64, splitStrings, u64 } from './keys.js';

/** Which searchable key a posting came from (search.md "room_events"). */
export type SearchField = 'b' | 'n' | 't';

export interface Posting {
  /** Event ID. */
  e: string;
  f: SearchField;
  /** Occurrences of the token in the field. */
  n: number;
  /** Number of tokens in the field (length normalisation). */
  l: number;
}

export interface SearchDoc {
  roomId: string;
  stream: number;
  eventId: string;
  field: SearchField;
  /** token → occurrences */
  tokens: Map<string, number>;
  length: number;
}

interface DocRecord {
  /** Short room. */
  r: number;
  t: string[];
}

/** An indexed event by its place: the room and its position there. */
export interface DocPlace {
  roomId: string;
  stream: number;
}

export interface PostingHit {
  stream: number;
  token: string;
  posting: Posting;
}

const CURSOR_KEY = Buffer.from('search_indexed');

export class SearchRepo {
  constructor(
    private readonly db: Database,
    /** The room's short ID (rooms/storage); undefined for rooms never stored. */
    private readonly roomShort: (roomId: string) => Promise<number | undefined>,
  ) {}

  async indexedUpTo(): Promise<number> {
    return (await this.db.get<number>('meta_value', CURSOR_KEY)) ?? 0;
  }

  /**
   * Add `docs`, take out the events at `removeStreams` and move the cursor to `upTo`,
   * in one atomic batch: a crash either keeps all of it or none (and re-indexes).
   */
  async write(docs: SearchDoc[], remove: DocPlace[], upTo: number): Promise<void> {
    const ops = await this.docOps(docs);
    ops.push(...(await this.removalOps(remove)));
    ops.push(this.db.put('meta_value', CURSOR_KEY, upTo));
    // Derived from the room stream with the cursor in the same batch: no fsync of its own (a
    // lost batch is indexed again from the older cursor), so it does not hold up the durable
    // writes queued behind it.
    await this.db.writeDerived(ops);
  }

  /** Up to `limit` IDs of fetched history not indexed yet (schema.ts historyevent_unindexed). */
  async historyToIndex(limit: number): Promise<string[]> {
    const rows = await this.db.range<number>('historyevent_unindexed', { limit });
    return rows.map(([k]) => splitStrings(k)[0]);
  }

  /**
   * Add events that are not in the room stream (fetched history: below the timeline, or in a
   * gap at positions the cursor passed while free), and clear the marks of `done`, in one batch.
   */
  async addHistory(docs: SearchDoc[], done: string[]): Promise<void> {
    const ops = await this.docOps(docs);
    for (const id of done) ops.push(this.db.del('historyevent_unindexed', key(id)));
    // Derived data with its marks in the same batch, like write(): no fsync of its own.
    if (ops.length > 0) await this.db.writeDerived(ops);
  }

  private async docOps(docs: SearchDoc[]): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const d of docs) {
      const short = await this.roomShort(d.roomId);
      if (short === undefined) continue;
      for (const [token, n] of d.tokens) {
        ops.push(this.db.put('roomtokenstream_posting', key(short, token, i64(d.stream)), { e: d.eventId, f: d.field, n, l: d.length } satisfies Posting));
      }
      const [space, k] = docKey(short, d.stream);
      ops.push(this.db.put(space, k, { r: short, t: [...d.tokens.keys()] } satisfies DocRecord));
    }
    return ops;
  }

  /** Take these events out of the index (redactions). */
  async remove(places: DocPlace[]): Promise<void> {
    await this.db.write(await this.removalOps(places));
  }

  private async removalOps(places: DocPlace[]): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const { roomId, stream } of places) {
      const short = await this.roomShort(roomId);
      if (short === undefined) continue;
      const [space, k] = docKey(short, stream);
      const doc = await this.db.get<DocRecord>(space, k);
      if (!doc) continue;
      for (const t of doc.t) ops.push(this.db.del('roomtokenstream_posting', key(doc.r, t, i64(stream))));
      ops.push(this.db.del(space, k));
    }
    return ops;
  }

  /** Postings in the room of every token that starts with `prefix` (Synapse-style prefix matching). */
  async postings(roomId: string, prefix: string): Promise<PostingHit[]> {
    const short = await this.roomShort(roomId);
    if (short === undefined) return [];
    const head = Buffer.concat([u64(short), Buffer.from(prefix, 'utf8')]);
    // Up to and including head · 0xFF · stream −1 (i64: eight 0xFF bytes), the greatest key there can be.
    const rows = await this.db.range<Posting>('roomtokenstream_posting', { gte: head, lte: Buffer.concat([head, Buffer.alloc(9, 0xff)]) });
    // Key: 8-byte room, token bytes, 0xFF, 8-byte stream.
    return rows.map(([k, posting]) => ({
      stream: readI64(k, k.length - 8),
      token: k.toString('utf8', 8, k.length - 9),
      posting,
    }));
  }
}

/** Where an event's DocRecord lives: room-stream positions are global, backfilled (negative) ones per room. */
function docKey(short: number, stream: number): ['stream_searchdoc' | 'roombackfill_searchdoc', Buffer] {
  return stream > 0 ? ['stream_searchdoc', key(stream)] : ['roombackfill_searchdoc', key(short, -stream)];
}
