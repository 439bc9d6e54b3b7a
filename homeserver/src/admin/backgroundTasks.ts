// Admin background tasks (room deletion v2, user redaction): started at once, their status
// queried by ID. As in Synapse, a status can be read until 24 hours after the task ended,
// or until the server restarts (tasks and their status live in memory).
import { randomBytes } from 'node:crypto';

export type TaskStatus = 'scheduled' | 'active' | 'complete' | 'failed';

export interface Task<R> {
  id: string;
  status: TaskStatus;
  /** What the task has produced so far (filled in while it runs). */
  result: R;
  error?: string;
  endedAt?: number;
  /** Free-form key to find tasks by (e.g. the room ID). */
  subject: string;
}

const RETENTION_MS = 24 * 60 * 60 * 1000;

export class BackgroundTasks<R> {
  private readonly tasks = new Map<string, Task<R>>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly onError: (err: unknown, what: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start `run` in the background; it may update `task.result` as it goes. */
  start(subject: string, initial: R, run: (task: Task<R>) => Promise<void>): Task<R> {
    this.prune();
    const task: Task<R> = { id: randomBytes(12).toString('base64url'), status: 'scheduled', result: initial, subject };
    this.tasks.set(task.id, task);
    const p = (async () => {
      // Let the request that started it answer first.
      await new Promise((r) => setImmediate(r));
      task.status = 'active';
      try {
        await run(task);
        task.status = 'complete';
      } catch (err) {
        task.status = 'failed';
        task.error = err instanceof Error ? err.message : String(err);
        this.onError(err, `admin task ${task.id} (${subject})`);
      } finally {
        task.endedAt = this.now();
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
    return task;
  }

  get(id: string): Task<R> | undefined {
    this.prune();
    return this.tasks.get(id);
  }

  bySubject(subject: string): Array<Task<R>> {
    this.prune();
    return [...this.tasks.values()].filter((t) => t.subject === subject);
  }

  /** Wait for running tasks (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private prune(): void {
    const limit = this.now() - RETENTION_MS;
    for (const [id, t] of this.tasks) if (t.endedAt !== undefined && t.endedAt < limit) this.tasks.delete(id);
  }
}
