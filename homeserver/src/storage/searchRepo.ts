// The full-text search index: postings per (room, token, event) and, per indexed event,
// the tokens it contributed (so a redaction can take them out again), plus the cursor up
// to which the room stream has been indexed. Layouts: schema.ts roomtokenstream_posting,
// stream_searchdoc, meta_value 'search_indexed'.
import type { BatchOp, Database } from './db.js';
import { key, prefixRange, readU64, u64 } from './keys.js';

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
  async write(docs: SearchDoc[], removeStreams: number[], upTo: number): Promise<void> {
    const ops = await this.docOps(docs);
    ops.push(...(await this.removalOps(removeStreams)));
    ops.push(this.db.put('meta_value', CURSOR_KEY, upTo));
    await this.db.write(ops);
  }

  /** Add events that are not in the room stream (history fetched into a gap: positions the cursor passed while free). */
  async add(docs: SearchDoc[]): Promise<void> {
    const ops = await this.docOps(docs);
    if (ops.length > 0) await this.db.write(ops);
  }

  private async docOps(docs: SearchDoc[]): Promise<BatchOp[]> {
    const ops: BatchOp[] = [];
    for (const d of docs) {
      const short = await this.roomShort(d.roomId);
      if (short === undefined) continue;
      for (const [token, n] of d.tokens) {
        ops.push(this.db.put('roomtokenstream_posting', key(short, token, d.stream), { e: d.eventId, f: d.field, n, l: d.length } satisfies Posting));
      }
      ops.push(this.db.put('stream_searchdoc', key(d.stream), { r: short, t: [...d.tokens.keys()] } satisfies DocRecord));
    }
    return ops;
  }

  /** Take the events at these stream positions out of the index (redactions). */
  async remove(streams: number[]): Promise<void> {
    await this.db.write(await this.removalOps(streams));
  }

  private async removalOps(streams: number[]): Promise<BatchOp[]> {
    if (streams.length === 0) return [];
    const docs = await this.db.getMany<DocRecord>('stream_searchdoc', streams.map((s) => key(s)));
    const ops: BatchOp[] = [];
    streams.forEach((s, i) => {
      const doc = docs[i];
      if (!doc) return;
      for (const t of doc.t) ops.push(this.db.del('roomtokenstream_posting', key(doc.r, t, s)));
      ops.push(this.db.del('stream_searchdoc', key(s)));
    });
    return ops;
  }

  /** Postings in the room of every token that starts with `prefix` (Synapse-style prefix matching). */
  async postings(roomId: string, prefix: string): Promise<PostingHit[]> {
    const short = await this.roomShort(roomId);
    if (short === undefined) return [];
    const head = Buffer.concat([u64(short), Buffer.from(prefix, 'utf8')]);
    const rows = await this.db.range<Posting>('roomtokenstream_posting', prefixRange(head));
    // Key: 8-byte room, token bytes, 0xFF, 8-byte stream.
    return rows.map(([k, posting]) => ({
      stream: readU64(k, k.length - 8),
      token: k.toString('utf8', 8, k.length - 9),
      posting,
    }));
  }
}
