// Transaction-ID lookups for appends (PUT /send, /redact, /state with a txn): is this a
// retry of a request that already made an event? The read is begun when the append is
// queued, not when its turn in the room's queue comes, so that under load it overlaps the
// wait instead of adding a storage round trip (a full event-loop turn) to every send while
// the room's writes stand still.
//
// A read begun before a commit of the same transaction may miss it. So the keys committed
// lately are remembered here, in commit order, with how many commits came before: a lookup
// that more commits have passed than are remembered reads again.
import type { TxnScope } from '../storage/txnRepo.js';

export interface TxnLookup {
  readonly scope: TxnScope;
  /** One string per transaction (user, device, room, endpoint, txn ID). */
  readonly key: string;
  /** Commits counted when the read began. */
  readonly since: number;
  readonly read: Promise<string | undefined>;
}

/** Committed transactions remembered; a lookup that waited longer than this many commits reads again. */
const REMEMBERED = 4_096;

export class TxnLookups {
  private readonly recent = new Map<string, string>();
  private commits = 0;

  constructor(
    private readonly readStored: (scope: TxnScope) => Promise<string | undefined>,
    private readonly remembered = REMEMBERED,
  ) {}

  begin(scope: TxnScope): TxnLookup {
    const read = this.readStored(scope);
    // Awaited later, when the append's turn comes, if it comes; a failure then fails the append.
    read.catch(() => undefined);
    return { scope, key: JSON.stringify(scope), since: this.commits, read };
  }

  /** The event the transaction already made, if any. */
  async existing(lookup: TxnLookup): Promise<string | undefined> {
    const known = this.recent.get(lookup.key);
    if (known !== undefined) return known;
    if (this.commits - lookup.since > this.remembered) return this.readStored(lookup.scope);
    return lookup.read;
  }

  /** Call once the write recording `key` → `eventId` is durable. */
  committed(key: string, eventId: string): void {
    this.recent.set(key, eventId);
    this.commits++;
    if (this.recent.size > this.remembered) this.recent.delete(this.recent.keys().next().value!);
  }
}
