// The default MediaStore: files under <root>/ab/cd/<sha256>. A file appears under its
// hash only by renaming a complete, fsync'd temporary file (and the directory entry is
// fsync'd too), so a crash never leaves half-written content under a hash name.
// Temporary files live in <root>/tmp (same file system, so rename is atomic) and any
// left over from a crash are removed when the store opens.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isSha256Hex, type ContentReader, type MediaStore, type StoredContent } from './mediaStore.js';

export class FileMediaStore implements MediaStore {
  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<FileMediaStore> {
    await mkdir(root, { recursive: true });
    // Leftovers of interrupted writes are garbage: they were never referenced.
    await rm(join(root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(root, 'tmp'));
    await fsyncDir(root);
    return new FileMediaStore(root);
  }

  /** Where content with this hash lives (exposed for tests and admin tooling). */
  pathOf(sha256: string): string {
    if (!isSha256Hex(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(source: Readable): Promise<StoredContent> {
    const tmp = join(this.root, 'tmp', `${randomBytes(12).toString('hex')}.part`);
    const hash = createHash('sha256');
    let size = 0;
    let file: FileHandle | undefined;
    // The pipeline is attached at once (the file opens in construct), so a source that
    // fails early still has its error handled here.
    const sink = new Writable({
      construct(done) {
        open(tmp, 'wx').then((f) => ((file = f), done()), done);
      },
      write(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        size += chunk.length;
        file!.write(chunk).then(() => done(), done);
      },
      final(done) {
        file!.sync().then(() => done(), done);
      },
      // Runs after construct, even when the source failed first: nothing of a failed put stays.
      destroy(err, done) {
        if (!err || !file) return done(err);
        file
          .close()
          .catch(() => {})
          .then(() => unlink(tmp))
          .catch(() => {})
          .then(() => done(err));
      },
    });
    try {
      await pipeline(source, sink);
    } catch (err) {
      // The pipeline settles on the error; the clean-up above ends with 'close'.
      if (!sink.closed) await new Promise((r) => sink.once('close', r));
      throw err;
    }
    await file!.close();
    const sha256 = hash.digest('hex');
    const dest = this.pathOf(sha256);
    if (await this.has(sha256)) {
      await unlink(tmp); // identical content is stored once
    } else {
      await this.ensureDirs(sha256);
      await rename(tmp, dest);
      await fsyncDir(join(this.root, sha256.slice(0, 2), sha256.slice(2, 4)));
    }
    return { sha256, size };
  }

  async get(sha256: string): Promise<ContentReader | undefined> {
    if (!isSha256Hex(sha256)) return undefined;
    const path = this.pathOf(sha256);
    try {
      // Open first so that the size and the bytes come from the same file.
      const fh = await open(path, 'r');
      try {
        const { size } = await fh.stat();
        return { stream: fh.createReadStream(), size };
      } catch (err) {
        await fh.close();
        throw err;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    if (!isSha256Hex(sha256)) return false;
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async delete(sha256: string): Promise<void> {
    if (!isSha256Hex(sha256)) return;
    await unlink(this.pathOf(sha256)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Create ab/ and ab/cd/ as needed, making each new directory entry durable. */
  private async ensureDirs(sha256: string): Promise<void> {
    const a = join(this.root, sha256.slice(0, 2));
    const b = join(a, sha256.slice(2, 4));
    const createdA = await mkdir(a).then(() => true, ignoreExists);
    if (createdA) await fsyncDir(this.root);
    const createdB = await mkdir(b).then(() => true, ignoreExists);
    if (createdB) await fsyncDir(a);
  }
}

function ignoreExists(err: NodeJS.ErrnoException): false {
  if (err.code === 'EEXIST') return false;
  throw err;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Names of temporary files currently in the store (tests use it to check cleanup). */
export async function pendingTempFiles(root: string): Promise<string[]> {
  return readdir(join(root, 'tmp')).catch(() => []);
}
