// Many small independent writes as few durable batches: while one batch is being written,
// the writes that arrive wait and then go together in the next one. Each caller's promise
// settles when its own operations are durable (or the batch carrying them failed). For
// bookkeeping that comes in bursts — 10,000 clients coming online each record where their
// device was last seen — one fsync'd write each would queue ahead of every other write of
// the server (a message sent then waited seconds for its own write).
import type { BatchOp } from './db.js';

interface Waiting {
  ops: BatchOp[];
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupWriter {
  private waiting: Waiting[] = [];
  private running = false;

  constructor(private readonly write: (ops: BatchOp[]) => Promise<void>) {}

  put(ops: BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ ops, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting;
        this.waiting = [];
        try {
          await this.write(group.flatMap((w) => w.ops));
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
