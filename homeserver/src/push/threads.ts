// Which thread an event belongs to, for per-thread counts: follow `m.relates_to` until an
// `m.thread` relation names the root, at most a few hops (so that a reaction to a threaded
// message counts in that thread). Spec: client-server-api/modules/push.md "Receiving
// notifications" (recommends at most 3 hops); modules/threading.md.
import { MAIN_THREAD } from './counts.js';

const MAX_HOPS = 3;

interface Relation {
  rel_type?: unknown;
  event_id?: unknown;
}

/** `MAIN_THREAD` or the thread root's event ID. */
export async function threadOf(
  content: Record<string, unknown>,
  contentOf: (eventId: string) => Promise<Record<string, unknown> | undefined>,
): Promise<string> {
  let current: Record<string, unknown> | undefined = content;
  for (let hop = 0; current && hop <= MAX_HOPS; hop++) {
    const rel = current['m.relates_to'] as Relation | undefined;
    if (typeof rel !== 'object' || rel === null || typeof rel.event_id !== 'string' || typeof rel.rel_type !== 'string') break;
    if (rel.rel_type === 'm.thread') return rel.event_id;
    if (hop === MAX_HOPS) break;
    current = await contentOf(rel.event_id);
  }
  return MAIN_THREAD;
}
