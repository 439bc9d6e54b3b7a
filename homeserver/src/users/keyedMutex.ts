// Serialises async critical sections per key (here: per user ID), so that a
// read-check-write such as "is this user name free? then create it" cannot
// interleave with another one for the same user.

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // Forget the key once nobody queued behind us, so the map does not grow.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** The per-user critical section shared by the account, device and profile services. */
export interface UserLock {
  withUserLock<T>(userId: string, fn: () => Promise<T>): Promise<T>;
}
