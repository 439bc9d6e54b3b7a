// Keeps content deletion (admin API) from racing with an upload of the same bytes.
// The store is content-addressed: an upload whose bytes already exist just reuses the file.
// If a deletion unlinked that file between the upload's put and its record write, the new
// record would point at nothing. So: an upload marks its hash in use from the moment its
// put returns until its record is durable, and checks the file is still there; a deletion
// skips hashes in use and marks the hashes it is unlinking, which uploads wait out.
import { serverError } from './serverError.js';

export class ContentGuard {
  private readonly inUse = new Map<string, number>();
  private readonly deleting = new Map<string, Promise<void>>();

  /** Around an upload's record write: `has` re-checks the bytes once the hash is marked. */
  async holding<T>(sha256: string, has: () => Promise<boolean>, write: () => Promise<T>): Promise<T> {
    for (let d = this.deleting.get(sha256); d; d = this.deleting.get(sha256)) await d;
    this.inUse.set(sha256, (this.inUse.get(sha256) ?? 0) + 1);
    try {
      if (!(await has())) throw serverError('The uploaded content was removed meanwhile; please upload it again');
      return await write();
    } finally {
      const n = (this.inUse.get(sha256) ?? 1) - 1;
      if (n === 0) this.inUse.delete(sha256);
      else this.inUse.set(sha256, n);
    }
  }

  /**
   * Delete the bytes of `hashes` that nothing refers to. Hashes an upload holds are skipped;
   * the others are marked first, so that no upload can add a reference between the
   * reference check and the unlink. Returns the hashes unlinked.
   */
  async deleteUnreferenced(
    hashes: Iterable<string>,
    referenced: (candidates: ReadonlySet<string>) => Promise<Set<string>>,
    unlink: (sha256: string) => Promise<void>,
  ): Promise<string[]> {
    const candidates = new Set([...hashes].filter((h) => !this.inUse.has(h) && !this.deleting.has(h)));
    if (candidates.size === 0) return [];
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    for (const h of candidates) this.deleting.set(h, done);
    try {
      const keep = await referenced(candidates);
      const gone: string[] = [];
      for (const h of candidates) {
        if (keep.has(h)) continue;
        await unlink(h);
        gone.push(h);
      }
      return gone;
    } finally {
      for (const h of candidates) this.deleting.delete(h);
      release();
    }
  }
}
