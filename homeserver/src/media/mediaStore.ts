// Where media bytes live, addressed by their SHA-256: identical content is kept once,
// and metadata (storage/mediaRepo.ts) points at it. The default implementation is a
// local directory (fileMediaStore.ts); an S3-compatible bucket can implement the same
// interface later (put = upload to a temporary object, then copy to the hash's key).
import type { Readable } from 'node:stream';

export interface StoredContent {
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
  size: number;
}

export interface ContentReader {
  stream: Readable;
  size: number;
}

export interface MediaStore {
  /**
   * Consume the stream and keep its bytes durably. Resolves only once the content is
   * safe on disk; rejects with the stream's own error (e.g. M_TOO_LARGE) having kept nothing.
   */
  put(source: Readable): Promise<StoredContent>;
  /** The content's bytes, or undefined when absent. */
  get(sha256: string): Promise<ContentReader | undefined>;
  has(sha256: string): Promise<boolean>;
  /** Remove the content (absent content is not an error). Callers make sure nothing refers to it. */
  delete(sha256: string): Promise<void>;
}

export const isSha256Hex = (s: string): boolean => /^[0-9a-f]{64}$/.test(s);
