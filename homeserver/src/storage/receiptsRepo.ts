// Receipts: the latest receipt per (room, type, thread, user) and a per-room index in
// stream order, so /sync reads "receipts of this room since position N" with one range.
// Layouts: schema.ts receipt_data, roomstream_receipt.
import type { Database } from './db.js';
import { key, prefixRange, readU64, splitStrings } from './keys.js';

export interface ReceiptRecord {
  eventId: string;
  /** Stream position of the acknowledged event: orders receipts ("is this one ahead?"). */
  eventStream: number;
  ts: number;
  /** Stream position of the receipt itself. */
  stream: number;
}

export interface ReceiptEntry extends ReceiptRecord {
  roomId: string;
  type: string;
  /** '' for an unthreaded receipt, else `main` or a thread root event ID. */
  thread: string;
  userId: string;
}

interface IndexValue {
  type: string;
  thread: string;
  userId: string;
}

export class ReceiptsRepo {
  constructor(private readonly db: Database) {}

  get(roomId: string, type: string, thread: string, userId: string): Promise<ReceiptRecord | undefined> {
    return this.db.get<ReceiptRecord>('receipt_data', key(roomId, type, thread, userId));
  }

  /** Store a receipt and move its index entry, in one atomic batch. */
  async put(entry: ReceiptEntry, previous: ReceiptRecord | undefined): Promise<void> {
    const { roomId, type, thread, userId, eventId, eventStream, ts, stream } = entry;
    const ops = [
      this.db.put('receipt_data', key(roomId, type, thread, userId), { eventId, eventStream, ts, stream } satisfies ReceiptRecord),
      this.db.put('roomstream_receipt', key(roomId, stream), { type, thread, userId } satisfies IndexValue),
    ];
    if (previous) ops.push(this.db.del('roomstream_receipt', key(roomId, previous.stream)));
    await this.db.write(ops);
  }

  /** Receipts of a room that changed in (after, upTo], in stream order. */
  async since(roomId: string, after: number, upTo: number): Promise<ReceiptEntry[]> {
    const rows = await this.db.range<IndexValue>('roomstream_receipt', { gt: key(roomId, after), lte: key(roomId, upTo) });
    if (rows.length === 0) return [];
    const prefixLen = key(roomId).length;
    const data = await this.db.getMany<ReceiptRecord>(
      'receipt_data',
      rows.map(([, v]) => key(roomId, v.type, v.thread, v.userId)),
    );
    const out: ReceiptEntry[] = [];
    rows.forEach(([k, v], i) => {
      const d = data[i];
      // An entry superseded by a concurrent write points at a newer record: skip it.
      if (d && d.stream === readU64(k, prefixLen)) out.push({ roomId, ...v, ...d });
    });
    return out;
  }

  /** Every current receipt of a room. */
  async all(roomId: string): Promise<ReceiptEntry[]> {
    const prefix = key(roomId);
    const rows = await this.db.range<ReceiptRecord>('receipt_data', prefixRange(prefix));
    return rows.map(([k, v]) => {
      const [, type, thread, userId] = splitStrings(k);
      return { roomId, type, thread, userId, ...v };
    });
  }
}
