// Opens the LevelDB database and hands out its keyspaces. The only module (with
// its siblings in storage/) that touches `level`.
import { Level } from 'level';
import type { AbstractSublevel, AbstractBatchOperation } from 'abstract-level';
import { KEYSPACES, type KeyspaceName } from './schema.js';
import { migrate } from './migrations.js';

export type Keyspace = AbstractSublevel<Level<Buffer, unknown>, Buffer | Uint8Array | string, Buffer, unknown>;
/** One put or delete of a write batch (built with Database.put / Database.del). */
export type BatchOp = AbstractBatchOperation<Level<Buffer, unknown>, Buffer, unknown>;

/** A write waiting for the one in flight (Database.flush). */
interface QueuedWrite {
  ops: BatchOp[];
  sync: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

export class Database {
  private queued: QueuedWrite[] = [];
  private writing = false;
  /** The flush in progress (close waits for it). */
  private flushing: Promise<void> = Promise.resolve();

  private constructor(
    readonly level: Level<Buffer, unknown>,
    private readonly spaces: Map<KeyspaceName, Keyspace>,
  ) {}

  static async open(dir: string): Promise<Database> {
    const level = new Level<Buffer, unknown>(dir, { keyEncoding: 'buffer', valueEncoding: 'json' });
    await level.open();
    const spaces = new Map<KeyspaceName, Keyspace>();
    for (const [name, prefix] of Object.entries(KEYSPACES) as [KeyspaceName, string][]) {
      spaces.set(name, level.sublevel<Buffer, unknown>(prefix, { keyEncoding: 'buffer', valueEncoding: 'json' }) as Keyspace);
    }
    const db = new Database(level, spaces);
    try {
      await migrate(db);
    } catch (err) {
      await level.close(); // e.g. a newer schema: release the lock for whoever opens it next
      throw err;
    }
    return db;
  }

  space(name: KeyspaceName): Keyspace {
    return this.spaces.get(name)!;
  }

  async get<T>(space: KeyspaceName, key: Buffer): Promise<T | undefined> {
    return (await this.space(space).get(key)) as T | undefined;
  }

  /** Values of several keys in one call (undefined where absent). */
  async getMany<T>(space: KeyspaceName, keys: Buffer[]): Promise<(T | undefined)[]> {
    if (keys.length === 0) return [];
    return (await this.space(space).getMany(keys)) as (T | undefined)[];
  }

  put(space: KeyspaceName, key: Buffer, value: unknown): BatchOp {
    return { type: 'put', sublevel: this.space(space) as never, key, value };
  }

  del(space: KeyspaceName, key: Buffer): BatchOp {
    return { type: 'del', sublevel: this.space(space) as never, key };
  }

  /**
   * Apply the operations atomically and durably: the promise resolves only after
   * LevelDB has fsync'd its log. Writes made while another is in flight go together in the
   * next one (see flush).
   */
  write(ops: BatchOp[]): Promise<void> {
    return this.enqueue(ops, true);
  }

  /**
   * Apply the operations atomically, without waiting for the fsync: only for data derived
   * from durable data whose cursor is in the same batch (an index that catches up from it).
   * LevelDB's log keeps writes in order, so a crash of the machine can lose only a suffix of
   * such batches, each whole or not at all, and the next fsync'd write makes them durable too.
   */
  writeDerived(ops: BatchOp[]): Promise<void> {
    return this.enqueue(ops, false);
  }

  private enqueue(ops: BatchOp[], sync: boolean): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ ops, sync, resolve, reject });
      if (!this.writing) this.flushing = this.flush();
    });
  }

  /**
   * One LevelDB write at a time, of everything queued meanwhile: a group commit here rather
   * than in LevelDB. LevelDB groups concurrent writers too, but each of them holds one of the
   * four threads of libuv's pool while it waits for the group's fsync, and that pool also
   * serves every read: under load, reads queued behind fsyncs. Each writer's operations stay
   * atomic (the group is one batch); a group that fails to write fails all its writers.
   */
  private async flush(): Promise<void> {
    this.writing = true;
    while (this.queued.length > 0) {
      const group = this.queued;
      this.queued = [];
      let batch: ReturnType<Level<Buffer, unknown>['batch']>;
      try {
        batch = this.batchOf(group);
      } catch {
        // An operation LevelDB refuses: each writer on its own, so that only its own fails.
        await Promise.all(group.map((w) => this.writeAlone(w)));
        continue;
      }
      try {
        await batch.write({ sync: group.some((w) => w.sync) });
        for (const w of group) w.resolve();
      } catch (err) {
        for (const w of group) w.reject(err);
      }
    }
    this.writing = false;
  }

  private async writeAlone(w: QueuedWrite): Promise<void> {
    try {
      await this.batchOf([w]).write({ sync: w.sync });
      w.resolve();
    } catch (err) {
      w.reject(err);
    }
  }

  private batchOf(writes: QueuedWrite[]): ReturnType<Level<Buffer, unknown>['batch']> {
    // A chained batch on the root, keys prefixed here: abstract-level's array batch clones and
    // re-validates every operation, which cost ~7× the CPU (100,000 puts: 2.2 s → 0.3 s, measured).
    const batch = this.level.batch();
    try {
      for (const w of writes) {
        for (const op of w.ops) {
          const k = (op.sublevel as unknown as Keyspace).prefixKey(op.key, 'buffer', false);
          if (op.type === 'put') batch.put(k, op.value);
          else batch.del(k);
        }
      }
    } catch (err) {
      void batch.close();
      throw err;
    }
    return batch;
  }

  /** Entries of a keyspace within a key range, in key order. */
  async range<T>(
    space: KeyspaceName,
    opts: { gte?: Buffer; gt?: Buffer; lt?: Buffer; lte?: Buffer; reverse?: boolean; limit?: number },
  ): Promise<Array<[Buffer, T]>> {
    // all() reads in chunks of up to 1,000 entries and decodes them together; iterating entry by
    // entry cost a promise and a decode call per entry and an extra read for the first one
    // (50-entry ranges: ~1.5× the CPU, measured).
    return (await this.space(space).iterator({ ...opts, limit: opts.limit ?? -1 }).all()) as Array<[Buffer, T]>;
  }

  async close(): Promise<void> {
    // Writes already asked for go first, as they would had LevelDB queued them.
    await this.flushing;
    await this.level.close();
  }
}

/** A utf8 key for keyspaces keyed by a plain string. */
export const strKey = (s: string): Buffer => Buffer.from(s, 'utf8');
