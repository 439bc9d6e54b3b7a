// One logical change = one atomic write. Repositories add their operations to a
// Batch, and the in-memory effects that must only happen once the write is durable
// (cache updates, marking allocated IDs as persisted) as after-commit hooks.
import type { BatchOp, Database } from './db.js';

export class Batch {
  readonly ops: BatchOp[] = [];
  private readonly hooks: Array<() => void> = [];

  add(...ops: BatchOp[]): void {
    this.ops.push(...ops);
  }

  /** Run `fn` once the batch is written (durable, unless by commitDerived; never, if the write fails). */
  afterCommit(fn: () => void): void {
    this.hooks.push(fn);
  }

  /** Take over another batch's operations and hooks (it was staged separately so it could be dropped). */
  merge(other: Batch): void {
    this.ops.push(...other.ops);
    this.hooks.push(...other.hooks);
  }

  /** Write everything in one fsync'd batch, then run the after-commit hooks. */
  async commit(db: Database): Promise<void> {
    await db.write(this.ops);
    for (const h of this.hooks) h();
  }

  /** As commit, without waiting for the fsync: only for derived data (see Database.writeDerived). */
  async commitDerived(db: Database): Promise<void> {
    await db.writeDerived(this.ops);
    for (const h of this.hooks) h();
  }
}
