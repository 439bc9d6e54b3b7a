// The newest rows of the global room-event order (stream_roomevent), kept in memory as
// they are committed. Everything that follows the stream — woken /syncs reading the window
// they were woken for, the push worker, the search indexer — asks for the last few
// positions, right after they were written; served from here, those reads no longer wait
// for the database's thread pool behind the writes that are being fsync'd.
//
// The tail knows every row above its floor: it starts with the first row committed in this
// process (rows of earlier processes have lower positions, as positions are never reused)
// and the floor rises as old rows are dropped. Below the floor, callers read the database.

export interface StreamRow {
  readonly stream: number;
  readonly shortRoom: number;
  readonly shortEvent: number;
}

/** Rows kept (about 50 bytes each). */
const DEFAULT_CAPACITY = 8192;

export class StreamTail {
  /** Ascending by stream. */
  private rows: StreamRow[] = [];
  /** Every committed row with a position above this is in `rows`; undefined until the first row. */
  private floor: number | undefined;

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** A row was committed. Rows commit nearly in order (one writer per room, groups overlap). */
  add(row: StreamRow): void {
    if (this.floor === undefined) this.floor = row.stream - 1;
    // At or below the floor: a position taken before the first row here committed after it;
    // no read this tail answers reaches it.
    if (row.stream <= this.floor) return;
    let i = this.rows.length;
    while (i > 0 && this.rows[i - 1].stream > row.stream) i--;
    this.rows.splice(i, 0, row);
    if (this.rows.length > this.capacity) {
      const dropped = this.rows.splice(0, this.rows.length - (this.capacity >> 1));
      this.floor = dropped[dropped.length - 1].stream;
    }
  }

  /** A row was deleted (an event rejected after all). */
  remove(stream: number): void {
    const i = this.indexAfter(stream - 1);
    if (i < this.rows.length && this.rows[i].stream === stream) this.rows.splice(i, 1);
  }

  /** A room's rows were deleted (purge). */
  removeRoom(shortRoom: number): void {
    this.rows = this.rows.filter((r) => r.shortRoom !== shortRoom);
  }

  /** Rows with after < stream ≤ upTo, ascending, at most `limit`; undefined when the tail does not reach down to `after`. */
  range(after: number, upTo: number, limit: number): StreamRow[] | undefined {
    if (this.floor === undefined || after < this.floor) return undefined;
    const out: StreamRow[] = [];
    for (let i = this.indexAfter(after); i < this.rows.length && out.length < limit; i++) {
      const r = this.rows[i];
      if (r.stream > upTo) break;
      out.push(r);
    }
    return out;
  }

  /** Index of the first row with stream > pos. */
  private indexAfter(pos: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.rows[mid].stream > pos) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
