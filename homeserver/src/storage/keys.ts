// Byte layouts for composite keys. LevelDB orders keys bytewise, so integers are
// written big-endian (byte order = numeric order) and string parts are joined by
// 0xFF, a byte that never occurs in UTF-8 text and so never inside an identifier.

export const SEP = 0xff;

/** An unsigned integer (< 2^53) as 8 big-endian bytes. */
export function u64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  writeU64(b, n, 0);
  return b;
}

export function readU64(b: Buffer, offset = 0): number {
  return b.readUInt32BE(offset) * 2 ** 32 + b.readUInt32BE(offset + 4);
}

// As two 32-bit halves, without a BigInt per key (every database key is made here); other
// numbers as before (BigInt: larger integers written, fractions and negatives refused).
function writeU64(b: Buffer, n: number, offset: number): void {
  if (Number.isSafeInteger(n) && n >= 0) {
    b.writeUInt32BE(Math.floor(n / 2 ** 32), offset);
    b.writeUInt32BE(n >>> 0, offset + 4);
  } else b.writeBigUInt64BE(BigInt(n), offset);
}

/** A signed integer as 8 big-endian bytes, two's complement: the same bytes as u64 for n ≥ 0,
 *  so a layout can start taking negative values without rewriting its keys. */
export function i64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

export function readI64(b: Buffer, offset = 0): number {
  return Number(b.readBigInt64BE(offset));
}

/** Join parts into one key: strings as UTF-8 followed by SEP, numbers as u64, Buffers verbatim. */
export function key(...parts: Array<string | number | Buffer>): Buffer {
  // One allocation: the lengths first, then each part written in place.
  let length = 0;
  for (const p of parts) length += typeof p === 'number' ? 8 : typeof p === 'string' ? Buffer.byteLength(p, 'utf8') + 1 : p.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'number') {
      writeU64(out, p, at);
      at += 8;
    } else if (typeof p === 'string') {
      at += out.write(p, at, 'utf8');
      out[at++] = SEP;
    } else at += p.copy(out, at);
  }
  return out;
}

/** Range options that select every key beginning with `prefix`. */
export function prefixRange(prefix: Buffer): { gte: Buffer; lt: Buffer } {
  return { gte: prefix, lt: Buffer.concat([prefix, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]) };
}

/** Split a key of the form str SEP str SEP … into its string parts (trailing bytes after the last SEP are returned last). */
export function splitStrings(k: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < k.length; i++) {
    if (k[i] === SEP) {
      out.push(k.toString('utf8', start, i));
      start = i + 1;
    }
  }
  if (start < k.length) out.push(k.toString('latin1', start));
  return out;
}
