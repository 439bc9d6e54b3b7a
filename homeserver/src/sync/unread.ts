// A plain unread counter for a sync module running without push rules (the server
// wires push/pushModule.ts instead; sync's own tests use this one):
// messages from others after the user's read position (the newer of m.read and
// m.read.private, or the join when there is no receipt); a highlight is a message
// that mentions the user. Spec: client-server-api "Receiving notifications";
// modules/receipts.md "Private read receipts" (the more recent receipt counts).
import type { RoomReader, StoredEvent } from '../rooms/types.js';
import type { UnreadCounter } from './ports.js';
import type { ReceiptService } from './receipts.js';

const COUNTED_TYPES = new Set(['m.room.message', 'm.room.encrypted', 'm.sticker', 'm.poll.start', 'm.call.invite']);
/** Counting stops here; a client shows "99+" long before. */
const MAX_COUNTED = 200;

export interface UnreadCounts {
  notification_count: number;
  highlight_count: number;
}

export async function unreadCounts(
  reader: Pick<RoomReader, 'timeline'>,
  roomId: string,
  userId: string,
  readPos: number,
  upTo: number,
): Promise<UnreadCounts> {
  if (readPos >= upTo) return { notification_count: 0, highlight_count: 0 };
  const events = await reader.timeline(roomId, { after: readPos, upTo, dir: 'b', limit: MAX_COUNTED });
  let notification_count = 0;
  let highlight_count = 0;
  for (const ev of events) {
    if (ev.pdu.sender === userId || !COUNTED_TYPES.has(ev.pdu.type) || ev.redactedBy) continue;
    notification_count++;
    if (mentions(ev, userId)) highlight_count++;
  }
  return { notification_count, highlight_count };
}

function mentions(ev: StoredEvent, userId: string): boolean {
  const content = ev.pdu.content as { 'm.mentions'?: { user_ids?: unknown }; body?: unknown };
  const m = content['m.mentions'];
  if (m && typeof m === 'object') return Array.isArray(m.user_ids) && m.user_ids.includes(userId);
  return typeof content.body === 'string' && content.body.includes(userId);
}

/** UnreadCounter over the timeline and the user's read receipts (no thread breakdown). */
export class PlainUnreadCounter implements UnreadCounter {
  constructor(
    private readonly reader: Pick<RoomReader, 'timeline' | 'membership'>,
    private readonly receipts: Pick<ReceiptService, 'readUpTo'>,
  ) {}

  async forSync(userId: string, roomId: string, upTo: number) {
    const joined = (await this.reader.membership(roomId, userId))?.stream ?? 0;
    const readPos = Math.max((await this.receipts.readUpTo(roomId, userId)) ?? 0, joined);
    return { unread_notifications: await unreadCounts(this.reader, roomId, userId, readPos, upTo) };
  }
}
